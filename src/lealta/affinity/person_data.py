"""Next-best suggestions, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from lealta.affinity.tables import ContactNextBest
from lealta.persons.registry import PersonRows
from lealta.persons.rows import deleted, dropped, listed

ROWS = (
    PersonRows(
        table=ContactNextBest.__tablename__,
        erase=deleted(ContactNextBest),
        erased="deleted",
        merge=dropped(ContactNextBest),
        merged="the merged profile's are dropped: the next affinity run judges the survivor "
        "on the united orders",
        sections=(
            (
                "next_best",
                listed(
                    ContactNextBest,
                    ContactNextBest.rank,
                    ("rank", "item", "kind", "score", "computed_at"),
                ),
            ),
        ),
    ),
)
