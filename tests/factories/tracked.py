"""People made the way a site makes them: an ``identify`` call through the tracking API,
applied as the worker applies it."""

from __future__ import annotations

from typing import Any

from lealta.identity.service import find_contact
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conftest import Api


def owner(uow: UnitOfWork, kind: str, value: str) -> str:
    """The id of the live contact the identifier ``kind``/``value`` leads to; fails the test
    when nobody owns it."""
    with uow.transaction() as session:
        found = find_contact(session, kind, value)
        assert found is not None, f"nobody has the {kind} {value!r}"
        return found.id


def identified(api: Api, user_id: str, **traits: Any) -> str:
    """``POST /v1/identify`` of ``user_id`` with ``traits`` (with the tracking key), applied;
    the contact's id."""
    message = {"type": "identify", "userId": user_id, "traits": traits}
    answer = api.client.post("/v1/identify", auth=api.track_auth, json=message)
    assert answer.is_success, answer.text
    api.drain()
    return owner(api.services.uow, "user_id", user_id)
