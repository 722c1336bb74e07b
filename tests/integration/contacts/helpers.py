"""Small helpers shared by the contacts and privacy API tests."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api


def create(api: Api, **body: Any) -> dict[str, Any]:
    """Create a contact through the API; fails the test unless it answers 201."""
    answer = api.client.post("/v1/contacts", headers=api.admin, json=body)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def track(api: Api, *messages: dict[str, Any]) -> None:
    """Send ``messages`` through ``/v1/batch`` with the track key and apply them."""
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": list(messages)})
    assert answer.status_code == 200, answer.text
    api.drain()
