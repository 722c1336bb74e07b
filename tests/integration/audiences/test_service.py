"""Keeping audiences (SQLite and PostgreSQL): versions, names, references between audiences,
the list, and counting while editing (exact, estimate, funnel)."""

from __future__ import annotations

import pytest

from lealta.audiences import counting, service
from lealta.audiences.definition import load_condition
from lealta.contacts.tables import ContactList
from lealta.errors import Conflict, InvalidInput
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.audiences.helpers import NOW, add_contacts, tag

VIPS = "name: VIPs\ncondition: {kind: tag, tag: vip}\n"
BERLIN = (
    "name: Berlin VIPs\ncondition: {kind: all, conditions: "
    "[{kind: audience, audience: VIPs}, {kind: tag, tag: berlin}]}\n"
)


def test_saving_again_adds_a_version_only_when_something_changed(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        first = service.save(session, VIPS, now=NOW)
        again = service.save(session, VIPS, now=NOW)
        changed = service.save(session, VIPS + "description: Our best\n", now=NOW)
        assert (first.created, again.changed, changed.changed) == (True, False, True)
        audience = service.get(session, "VIPs")
        assert audience.version == 2
        assert service.get(session, str(audience.id)) is audience
        assert service.definition(session, audience, 1)["description"] == ""
        assert service.definition(session, audience)["description"] == "Our best"
        assert service.definition(session, audience)["condition"] == {
            "kind": "tag",
            "tag": "vip",
            "present": True,
        }


def test_references_must_exist_and_never_go_round(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        with pytest.raises(InvalidInput, match="no audience 'VIPs' to refer to") as missing:
            service.save(session, BERLIN, now=NOW)
        assert missing.value.field == "condition"
        service.save(session, VIPS, now=NOW)
        service.save(session, BERLIN, now=NOW)
        circle = "name: VIPs\ncondition: {kind: audience, audience: Berlin VIPs}\n"
        with pytest.raises(InvalidInput, match="would refer to itself"):
            service.save(session, circle, now=NOW)
        vips = service.get(session, "VIPs")
        with pytest.raises(Conflict, match="'Berlin VIPs' refer to it"):
            service.delete_(session, vips)
        with pytest.raises(Conflict, match="cannot be renamed"):
            service.save(
                session, "name: Top\ncondition: {kind: tag, tag: vip}", now=NOW, audience_id=vips.id
            )
        service.delete_(session, service.get(session, "Berlin VIPs"))
        service.delete_(session, vips)
        assert service.list_(session) == []


def test_bad_definitions_name_the_field(uow: UnitOfWork) -> None:
    cases = {
        "name: X\ncondition: {kind: all, conditions: [{kind: score, gte: 5, lte: 1}]}": (
            "condition.conditions.0"
        ),
        "name: X\ncondition: {kind: tag}": "condition.tag",
        "name: X\nlist: nowhere\ncondition: {kind: tag, tag: a}": "list",
        "name: X\ncondition: {kind: purchased_since_entered}": "condition",
        "name: ' X'\ncondition: {kind: tag, tag: a}": "name",
        "name: X\ncolour: red\ncondition: {kind: tag, tag: a}": "colour",
    }
    with uow.transaction() as session:
        for text, field in cases.items():
            with pytest.raises(InvalidInput) as problem:
                service.save(session, text, now=NOW)
            assert problem.value.field == field, text
        session.add(ContactList(slug="somewhere", name="Somewhere", created_at=NOW))
        session.flush()
        saved = service.save(
            session, "name: X\nlist: somewhere\ncondition: {kind: tag, tag: a}", now=NOW
        )
        assert saved.audience.list_slug == "somewhere"


def test_counts_exact_estimated_and_funnel(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ids = add_contacts(session, 40, spread=True)
        for cid in ids[::2]:
            tag(session, cid, "vip")  # 20 VIPs, every other id
        for cid in ids[::4]:
            tag(session, cid, "berlin")  # 10 of them in Berlin
        condition = load_condition(
            {
                "kind": "all",
                "conditions": [{"kind": "tag", "tag": "vip"}, {"kind": "tag", "tag": "berlin"}],
            }
        )
        assert counting.count(session, condition, now=NOW) == 10
        small = counting.estimate(session, condition, now=NOW)
        assert (small.count, small.exact, small.margin) == (10, True, 0)
        # the lower half of the id space holds contacts 0 to 20 (ids are spread evenly, the
        # bound rounds down): 21 sampled, of which 0, 4, 8, 12, 16, 20 are Berlin VIPs
        guess = counting.estimate(session, condition, now=NOW, sample=20)
        assert (guess.sampled, guess.contacts, guess.exact) == (21, 40, False)
        assert guess.count == round(6 / 21 * 40)
        assert guess.margin > 0
        steps = counting.funnel(session, condition, now=NOW)
        assert [(s.label, s.left) for s in steps] == [
            ("has the tag 'vip'", 20),
            ("has the tag 'berlin'", 10),
        ]
