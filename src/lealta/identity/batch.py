"""Who owns the identifiers of a whole batch of messages, found and created set-wise.

The tracking processor names a few hundred people per transaction. Instead of a lookup (and
perhaps a creation) per message, :class:`BatchOwners` finds the owners of every identifier the
batch names in a query per kind (and 2,000 identifiers), loads their profiles as plain rows
(:mod:`lealta.identity.profiles`) in one more, and creates together the people named by one
identifier nobody owns yet. Messages naming several identifiers that lead to different people
still go through :func:`lealta.identity.service.resolve`, which merges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact, Identifier, new_contact_id
from lealta.identity import profiles
from lealta.identity.profiles import Profile
from lealta.storage.base import utcnow
from lealta.storage.bulk import insert_rows
from lealta.storage.keyed import KeyedSelect

Pair = tuple[str, str]  # (kind, normalised value)


def _owners(*columns: Any) -> KeyedSelect:
    """``columns`` of the identifiers of one kind (a plain IN costs the driver far less than a
    tuple IN) and of their contacts."""
    return KeyedSelect(
        select(Identifier.value, *columns)
        .join(Contact, Contact.id == Identifier.contact_id)
        .where(Identifier.kind == bindparam("kind"))
        .where(Identifier.value.in_(bindparam("keys", expanding=True)))
    )


# the owner's profile comes with it: the join reads the contact's row anyway
_OWNERS = _owners(*profiles.COLUMNS)
_MERGED = 1 + [c.key for c in profiles.COLUMNS].index("merged_into")
# the owners alone (the people just created: their profiles are known without reading them)
_OWNERS_ONLY = _owners(Identifier.contact_id, Contact.merged_into)


class BatchOwners:
    """The identifier → contact map of one transaction, and the profiles it leads to."""

    def __init__(self, session: Session, *, now: dt.datetime) -> None:
        self.session = session
        self.now = now
        self.owners: dict[Pair, str] = {}
        self.contacts: dict[str, Profile] = {}

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
        self.contacts.update(
            profiles.load(self.session, set(self.owners.values()) - set(self.contacts))
        )

    def live(self, pair: Pair) -> Profile | None:
        """The live profile owning ``pair``, if known to this batch."""
        owner = self.owners.get(pair)
        if owner is None:
            return None
        held = self.contacts.get(owner)
        if held is not None and held.merged_into is None:
            return held
        return self.profile(profiles.survivor_id(self.session, owner))

    def find(self, pair: Pair) -> Profile | None:
        """The live profile owning ``pair``, looked up if not known yet."""
        if pair not in self.owners:
            self.session.flush()  # an ORM change (a merge, a new contact) may be pending
            self._load({pair})
        return self.live(pair)

    def profile(self, contact_id: str) -> Profile:
        """The profile of ``contact_id``, read if not held yet (after :meth:`forget`)."""
        held = self.contacts.get(contact_id)
        if held is None:
            self.session.flush()  # an ORM change (a merge, a new contact) may be pending
            held = profiles.load(self.session, [contact_id])[contact_id]
            self.contacts[contact_id] = held
        return held

    def write(self) -> int:
        """Write the profiles' changes (:func:`lealta.identity.profiles.write`)."""
        return profiles.write(self.session, self.contacts.values(), now=utcnow())

    def forget(self) -> None:
        """Drop the known owners and profiles (after a merge, which may have made them stale);
        write the profiles' changes first (:meth:`write`)."""
        self.owners.clear()
        self.contacts.clear()

    def _load(self, pairs: set[Pair], *, keep: bool = True) -> None:
        """Find the owners of ``pairs``; with ``keep``, hold the live owners' profiles read
        with them (those not held already: a held one may have unwritten changes)."""
        by_kind: dict[str, list[str]] = {}
        for kind, value in sorted(pairs):
            by_kind.setdefault(kind, []).append(value)
        connection = self.session.connection()
        contacts = self.contacts
        query, merged = (_OWNERS, _MERGED) if keep else (_OWNERS_ONLY, 2)
        for kind, values in by_kind.items():
            for row in query.rows(connection, values, kind=kind):
                owner = row[1]
                if row[merged] is not None:
                    self.owners[(kind, row[0])] = profiles.survivor_id(self.session, owner)
                    continue
                self.owners[(kind, row[0])] = owner
                if keep and owner not in contacts:
                    contacts[owner] = profiles.from_row(row[1:])

    def _create(self, pairs: list[Pair]) -> None:
        now = self.now
        mine = {pair: new_contact_id() for pair in pairs}
        insert_rows(
            self.session.connection(),
            cast(Table, Contact.__table__),
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
        insert_rows(
            self.session.connection(),
            cast(Table, Identifier.__table__),
            [
                {"contact_id": cid, "kind": kind, "value": value, "created_at": now}
                for (kind, value), cid in mine.items()
            ],
            skip_conflicts_on=("kind", "value"),
        )
        self._load(set(pairs), keep=False)  # ours are held below; a winner's is read after
        lost = [cid for pair, cid in mine.items() if self.owners.get(pair) != cid]
        if lost:
            self.session.execute(delete(Contact).where(Contact.id.in_(lost)))
        kept = set(mine.values()).difference(lost)
        for cid in kept:  # as read back, without reading them back
            self.contacts[cid] = Profile(cid, now)
