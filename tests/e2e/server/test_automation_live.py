"""The production wiring: a tracked event reaches a running server, its worker enrols the
person in an enabled workflow and advances the run, visible through the API."""

from __future__ import annotations

import time

import httpx2 as httpx

from tests.e2e.server.conftest import Server

FLOW = """
id: hello-on-signup
name: Hello on sign-up
trigger: {type: event, event: Signed Up, where: [{property: plan, op: equals, value: pro}]}
steps:
  - {id: hello, type: send, channel: email, template: hello-pro}
  - {id: later, type: wait, duration: 3d}
  - {id: tip, type: send, channel: email, template: first-tip}
"""


def test_an_event_starts_a_run_in_the_live_server(server: Server) -> None:
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        made = client.post(
            "/v1/automations", content=FLOW, headers={**admin, "Content-Type": "application/yaml"}
        )
        assert made.status_code == 201, made.text
        refused = client.post("/v1/automations/hello-on-signup/enable", headers=admin)
        assert refused.status_code == 409, refused.text
        assert "first-tip (email), hello-pro (email)" in refused.json()["error"]["message"]
        for template in ("hello-pro", "first-tip"):
            body = {"channel": "email", "body": {"subject": "Hello", "text": "Welcome aboard"}}
            stored = client.put(f"/v1/templates/{template}", json=body, headers=admin)
            assert stored.is_success, stored.text
        assert client.post("/v1/automations/hello-on-signup/enable", headers=admin).is_success
        for user, plan in (("pro-user", "pro"), ("free-user", "free")):
            sent = client.post(
                "/v1/track",
                auth=(server.track_key, ""),
                json={"userId": user, "event": "Signed Up", "properties": {"plan": plan}},
            )
            assert sent.status_code == 200
        deadline = time.monotonic() + 300  # a condition: only reached when something is wrong
        stats: dict[str, object] = {}
        while time.monotonic() < deadline:
            stats = client.get("/v1/automations/hello-on-signup/stats", headers=admin).json()
            if stats.get("waiting") == 1:
                break
            time.sleep(0.3)
        assert stats["entered"] == 1
        assert stats["waiting"] == 1
        outbox = client.get("/v1/outbox", headers=admin).json()
    rows = outbox["messages"]
    assert [row["template"] for row in rows] == ["hello-pro"]
