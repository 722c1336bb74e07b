"""The unit of work: one transaction, committed at the end of a block or rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    """Hands out sessions whose transaction commits only if the block ends normally.

    Services receive a session from here and never commit themselves.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction."""
        with self._sessions() as session, session.begin():
            yield session
