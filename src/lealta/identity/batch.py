"""Who owns the identifiers of a whole batch of messages, found and created set-wise.

The tracking processor names a few hundred people per transaction. Instead of a lookup (and
perhaps a creation) per message, :class:`BatchOwners` finds the owners of every identifier the
batch names in a query per 500 identifiers, loads their profiles in one more, and creates
together the people named by one identifier nobody owns yet. Messages naming several
identifiers that lead to different people still go through
:func:`lealta.identity.service.resolve`, which merges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact, Identifier, new_contact_id
from lealta.identity.service import survivor
from lealta.storage.upsert import insert_ignoring

Pair = tuple[str, str]  # (kind, normalised value)
CHUNK = 500  # identifier pairs per lookup


class BatchOwners:
    """The identifier → contact map of one transaction, and the profiles it leads to."""

    def __init__(self, session: Session, *, now: dt.datetime) -> None:
        self.session = session
        self.now = now
        self.owners: dict[Pair, str] = {}
        # Held here: the session's identity map keeps only weak references.
        self.contacts: dict[str, Contact] = {}

    def prepare(self, named: Iterable[Mapping[str, str]]) -> None:
        """Find the owners of every identifier in ``named`` (one mapping kind → value per
        message), create the people named alone by an identifier nobody owns, load them all.

        Creation inserts the contacts, then their identifiers with ``ON CONFLICT DO
        NOTHING``: a profile a concurrent worker created first wins, and ours is dropped.
        """
        single: set[Pair] = set()
        pairs: set[Pair] = set()
        for found in named:
            pairs.update(found.items())
            if len(found) == 1:
                single.update(found.items())
        if not pairs:
            return
        self._load(pairs)
        new = sorted(pair for pair in single if pair not in self.owners)
        if new:
            self._create(new)
        ids = set(self.owners.values()) - set(self.contacts)
        if ids:
            for contact in self.session.scalars(select(Contact).where(Contact.id.in_(ids))):
                self.contacts[contact.id] = contact

    def live(self, pair: Pair) -> Contact | None:
        """The live contact owning ``pair``, if known to this batch."""
        owner = self.owners.get(pair)
        if owner is None:
            return None
        held = self.contacts.get(owner)
        if held is not None and held.merged_into is None:
            return held
        return survivor(self.session, owner)

    def forget(self) -> None:
        """Drop the known owners (after a merge, which may have made them stale)."""
        self.owners.clear()

    def _load(self, pairs: set[Pair]) -> None:
        by_kind: dict[str, list[str]] = {}
        for kind, value in sorted(pairs):
            by_kind.setdefault(kind, []).append(value)
        for kind, values in by_kind.items():
            for start in range(0, len(values), CHUNK):
                self._load_chunk(kind, values[start : start + CHUNK])

    def _load_chunk(self, kind: str, values: list[str]) -> None:
        # one kind at a time: a plain IN costs the driver far less than a tuple IN
        rows = self.session.execute(
            select(Identifier.value, Identifier.contact_id, Contact.merged_into)
            .join(Contact, Contact.id == Identifier.contact_id)
            .where(Identifier.kind == kind, Identifier.value.in_(values))
        ).all()
        for value, owner, merged_into in rows:
            self.owners[(kind, value)] = (
                owner if merged_into is None else survivor(self.session, owner).id
            )

    def _create(self, pairs: list[Pair]) -> None:
        now = self.now
        mine = {pair: new_contact_id() for pair in pairs}
        self.session.execute(
            insert(Contact),
            [
                {
                    "id": cid,
                    "created_at": now,
                    "updated_at": now,
                    "attributes": {},
                    "score": 0.0,
                    "score_state": {},
                }
                for cid in mine.values()
            ],
        )
        insert_ignoring(
            self.session,
            Identifier.__table__,
            [
                {"contact_id": cid, "kind": kind, "value": value, "created_at": now}
                for (kind, value), cid in mine.items()
            ],
            conflict=("kind", "value"),
        )
        self._load(set(pairs))
        lost = [cid for pair, cid in mine.items() if self.owners.get(pair) != cid]
        if lost:
            self.session.execute(delete(Contact).where(Contact.id.in_(lost)))
