"""A small shop of people for the advertising export tests, made through the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lealta.audiences.tables import Audience, AudienceMember
from lealta.storage.base import utcnow
from tests.factories import runs as runs_of
from tests.factories import scores
from tests.integration.conftest import Api
from tests.integration.contacts.helpers import create


def person(api: Api, identifiers: dict[str, str], consent: dict[str, str], **more: Any) -> str:
    found = create(api, identifiers=identifiers, consent=consent, tags=["vip"], **more)
    return str(found["id"])


def shop(api: Api) -> dict[str, str]:
    """Ana (exported), Ben (ads denied), Cruz (invalid phone only), Dan (no e-mail or phone),
    Eva (erased), Fay (phone only, exported), Gus (never asked for ads consent); all tagged
    ``vip``; Ana and Ben on the list ``news``."""
    answer = api.client.post("/v1/lists", json={"slug": "news", "name": "News"}, headers=api.admin)
    assert answer.status_code == 201, answer.text
    ana_attributes = {
        "first_name": "Ana",
        "last_name": "Rossi",
        "country": "IT",
        "zip": "20121",
        "city": "Milano",
    }
    who = {
        "ana": person(
            api,
            {"email": "Ana.Rossi@Example.com", "phone": "+39 02 1234 5678"},
            {"ads": "granted", "email": "granted"},
            attributes=ana_attributes,
            lists=["news"],
        ),
        "ben": person(api, {"email": "ben@example.com"}, {"ads": "denied"}, lists=["news"]),
        "cruz": person(api, {"phone": "+1 200 555 0100"}, {"ads": "granted"}),
        "dan": person(api, {"user_id": "dan-1"}, {"ads": "granted"}),
        "eva": person(api, {"email": "eva@example.com"}, {"ads": "granted"}),
        "fay": person(api, {"phone": "+34 600 123 456"}, {"ads": "granted"}),
        "gus": person(api, {"email": "gus@example.com"}, {"email": "granted"}),
    }
    erased = api.client.delete(f"/v1/contacts/{who['eva']}", headers=api.admin)
    assert erased.status_code == 200, erased.text
    return who


def score(session: Session, contact_ids: list[str], *, segment: str, cluster: int) -> None:
    """Put ``contact_ids`` in an RFM segment and cluster (as a scoring would)."""
    now = utcnow()
    for contact_id in contact_ids:
        scores.rfm(session, contact_id, segment, at=now, monetary=120.0, cluster=cluster)


def runs(session: Session, where: dict[str, tuple[str, str]]) -> None:
    """Workflow ``welcome`` (steps wait-1, send-1) with one run per contact: (step, status)."""
    now = utcnow()
    definition = {"steps": [{"id": "wait-1"}, {"id": "send-1"}]}
    runs_of.workflow(session, "welcome", name="Welcome", status="active", definition=definition)
    for contact_id, (step, status) in where.items():
        run_id = f"run-{contact_id}"
        runs_of.run(
            session,
            "welcome",
            contact_id,
            at=now,
            run_id=run_id,
            status=status,
            step_id=step,
            entry_key="k",
        )


def audience(session: Session, name: str, members: list[str]) -> int:
    """A saved audience whose latest refresh found ``members`` (written as a refresh would)."""
    row = Audience(name=name, condition={"kind": "tag", "tag": "vip"}, size=len(members))
    session.add(row)
    session.flush()
    session.add_all(AudienceMember(audience_id=row.id, contact_id=c) for c in members)
    session.flush()
    return row.id
