"""``GET /v1/automations/{id}/stats`` of a workflow with many runs, slow to count, comes from a
summary recounted in the background (as the Journeys pages' figures); a small one is live."""

from __future__ import annotations

import pytest

from lealta.overview.summary import Freshness
from lealta.rest import automations
from tests.integration.automations.journey import active_workflow, enrol, person
from tests.integration.conftest import Api


def _entered(api: Api, flow: str) -> int:
    answer = api.client.get(f"/v1/automations/{flow}/stats", headers=api.admin)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["entered"])


def test_a_small_workflows_stats_are_live(api: Api) -> None:
    flow = active_workflow(api.services)
    enrol(api.services, flow, person(api.services, {"email": "ana@example.com"}))
    assert _entered(api, flow) == 1
    enrol(api.services, flow, person(api.services, {"email": "bo@example.com"}))
    assert _entered(api, flow) == 2  # however slow the machine: under 20,000 runs
    listed = api.client.get("/v1/automations", headers=api.admin).json()["workflows"]
    assert [w["entered"] for w in listed if w["id"] == flow] == [2]


def test_a_large_slow_workflows_stats_come_from_the_summary(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = active_workflow(api.services)
    enrol(api.services, flow, person(api.services, {"email": "ana@example.com"}))
    # counted "slowly" over "many" runs: later readers get the summary until it is recounted
    monkeypatch.setattr(automations, "LARGE_WORKFLOW", 1)
    monkeypatch.setattr(
        automations, "STATS_FRESHNESS", Freshness(live_below=0.0, refresh_every=600)
    )
    automations._stats.forget(api.services)
    assert _entered(api, flow) == 1
    enrol(api.services, flow, person(api.services, {"email": "bo@example.com"}))
    assert _entered(api, flow) == 1  # from the summary
    automations._stats.forget(api.services)
    assert _entered(api, flow) == 2
    assert api.client.get("/v1/automations/nope/stats", headers=api.admin).status_code == 404
    automations._stats.forget(api.services)
