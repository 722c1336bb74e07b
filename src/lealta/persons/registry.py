"""The registry of per-person data that privacy (export, erasure) and identity (merge) walk.

Every package that keeps rows about a person has a ``person_data`` module exposing ``ROWS``, a
tuple of :class:`PersonRows`: one per table with a contact column, saying what erasure does
with its rows (delete, anonymise, keep — with the reason), what a merge does (move them to the
survivor, unite them by a key, drop them — with the reason) and which sections of the export
document they fill. A module may also expose ``AFTER_MERGE``: functions run with the survivor
once every package has moved its rows and the merge is recorded (a score recomputed on the
united history).

The registering modules are listed once, in :data:`PERSON_DATA`, rather than discovered from
imports or entry points: that order is the walk order and the order of the export's sections,
so it must be deterministic and reviewed, and a module can never be missed because nothing
happened to import it. A new package adds its module to the list; a test fails while any table
with a contact column is not covered.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

Erase = Callable[[Session, Sequence[str], dt.datetime], int | None]
"""Erase the rows of ``ids`` (one person's profiles); returns the count the erasure reports
(``None`` when it reports none, which saves counting)."""
Merge = Callable[[Session, str, str, dt.datetime], None]
"""Give the rows of ``source`` to ``into`` (or drop them) when ``source`` merges into ``into``."""
Export = Callable[[Session, list[str]], Any]
"""One section of the export document, from the person's ids (the survivor first)."""
AfterMerge = Callable[[Session, str, dt.datetime], None]
"""Run with the survivor's id once the merge is complete and recorded."""

PERSON_DATA = (
    "lealta.contacts.person_data",
    "lealta.events.person_data",
    "lealta.orders.person_data",
    "lealta.lifecycle.person_data",
    "lealta.scoring.person_data",
    "lealta.segmentation.person_data",
    "lealta.affinity.person_data",
    "lealta.prediction.person_data",
    "lealta.audiences.person_data",
    "lealta.loyalty.person_data",
    "lealta.automations.person_data",
    "lealta.channels.person_data",
    "lealta.vouchers.person_data",
)
"""The modules registering per-person data, in walk and export order."""


@dataclass(frozen=True)
class PersonRows:
    """One table's rows about a person and what export, erasure and a merge do with them.

    ``erased`` and ``merged`` say what happens and why, in words (the README and the
    registry's test read them); ``reported_as`` names the :class:`~lealta.contacts.schemas.
    Erasure` count that ``erase``'s result fills, if any.
    """

    table: str
    erase: Erase
    erased: str
    merge: Merge
    merged: str
    sections: tuple[tuple[str, Export], ...] = ()
    reported_as: str | None = None


@dataclass(frozen=True)
class Registry:
    """Everything registered, in :data:`PERSON_DATA` order."""

    rows: tuple[PersonRows, ...]
    after_merge: tuple[AfterMerge, ...]

    def sections(self) -> list[tuple[str, Export]]:
        """The export document's sections, in order."""
        return [section for entry in self.rows for section in entry.sections]


@functools.cache
def registry() -> Registry:
    """The registry, loaded from :data:`PERSON_DATA` on first use (not at import, so that a
    registering module may use services that themselves import identity or privacy)."""
    return load(PERSON_DATA)


def load(names: Sequence[str]) -> Registry:
    """The registry built from the modules ``names``.

    Raises
    ------
    TypeError
        A module's ``ROWS`` or ``AFTER_MERGE`` is not what it must be.
    ValueError
        Two modules register the same table, or the same export section.
    """
    rows: list[PersonRows] = []
    after: list[AfterMerge] = []
    for name in names:
        module = importlib.import_module(name)
        found = getattr(module, "ROWS", ())
        if not all(isinstance(entry, PersonRows) for entry in found):
            raise TypeError(f"{name}.ROWS must be a tuple of PersonRows")
        rows.extend(found)
        after.extend(getattr(module, "AFTER_MERGE", ()))
    _unique("table", [entry.table for entry in rows])
    _unique("export section", [name for entry in rows for name, _ in entry.sections])
    return Registry(rows=tuple(rows), after_merge=tuple(after))


def _unique(what: str, names: list[str]) -> None:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{what} registered twice: {', '.join(twice)}")
