"""Audience memberships, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from lealta.audiences.members import memberships
from lealta.audiences.tables import AudienceMember
from lealta.persons.registry import PersonRows
from lealta.persons.rows import deleted, dropped

ROWS = (
    PersonRows(
        table=AudienceMember.__tablename__,
        erase=deleted(AudienceMember),
        erased="deleted, without an Audience Exited event",
        merge=dropped(AudienceMember),
        merged="the merged profile's are dropped without an event: the next refresh of each "
        "audience judges the survivor",
        sections=(("audiences", memberships),),
    ),
)
