"""Running a unit of work again when a concurrent writer got there first."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from lealta.storage.unit_of_work import UnitOfWork

T = TypeVar("T")

# PostgreSQL: serialization failure, deadlock. SQLite: a writer with an older snapshot.
_RETRYABLE_CODES = ("40001", "40P01")
_RETRYABLE_TEXT = ("database is locked", "could not serialize", "deadlock detected")


def in_transaction(uow: UnitOfWork, work: Callable[[Session], T], *, attempts: int = 5) -> T:
    """Run ``work`` in a transaction, again from scratch if a concurrent write conflicted.

    A unique-key race (two requests creating the same person at once) or a lost write race
    rolls back the whole attempt; the next attempt sees the other writer's rows, so nothing is
    created twice. The last failure is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            with uow.transaction() as session:
                return work(session)
        except (IntegrityError, OperationalError) as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.01 * attempt))
    raise AssertionError("unreachable")


def _retryable(exc: IntegrityError | OperationalError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None)
    return code in _RETRYABLE_CODES or any(t in str(exc).lower() for t in _RETRYABLE_TEXT)
