"""A workflow's runs through ``GET /v1/automations/{id}/runs`` and ``lealta automations runs``,
and on the contact's timeline (runs and messages held for quiet hours)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from lealta.automations.tables import Run
from lealta.channels.dispatcher import dispatch_due
from lealta.channels.policy import QuietHours
from lealta.channels.testing import RecordingChannel
from lealta.cli.main import app as cli
from lealta.clock import FrozenClock
from lealta.config import get_settings
from tests.integration.automations.journey import active_workflow, enrol, person
from tests.integration.conftest import Api

START = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def runs(api: Api) -> dict[str, str]:
    """Three runs of ``welcome``, an hour apart: ana's and bo's wait, cy's exited."""
    clock = FrozenClock(START)
    api.services.clock = clock
    flow = active_workflow(api.services)
    found: dict[str, str] = {"workflow": flow}
    for name in ("ana", "bo", "cy"):
        contact = person(api.services, {"email": f"{name}@example.com"})
        found[name] = contact
        found[f"{name}-run"] = enrol(api.services, flow, contact)
        clock.advance(hours=1)
    with api.services.uow.transaction() as session:
        session.execute(
            update(Run)
            .where(Run.id == found["cy-run"])
            .values(status="exited", exit_reason="unsubscribed", wake_at=None)
        )
    return found


def test_the_runs_of_a_workflow_newest_first_with_their_state(
    api: Api, runs: dict[str, str]
) -> None:
    answer = api.client.get(f"/v1/automations/{runs['workflow']}/runs", headers=api.admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["next"] is None
    assert [r["contact_id"] for r in body["runs"]] == [runs["cy"], runs["bo"], runs["ana"]]
    cy, bo, _ana = body["runs"]
    assert (cy["status"], cy["exit_reason"], cy["wake_at"]) == ("exited", "unsubscribed", None)
    assert cy["id"] == runs["cy-run"]
    assert (bo["status"], bo["step_id"], bo["exit_reason"]) == ("waiting", "pause", None)
    assert bo["wake_at"] == "2025-06-04T11:00:00Z"
    assert bo["entered_at"] == "2025-06-02T11:00:00Z"
    assert bo["updated_at"] == "2025-06-02T11:00:00Z"
    assert bo["version"] == 1


def test_runs_filter_by_contact_and_status_and_page_with_a_cursor(
    api: Api, runs: dict[str, str]
) -> None:
    url = f"/v1/automations/{runs['workflow']}/runs"
    mine = api.client.get(url, params={"contact": runs["bo"]}, headers=api.admin).json()
    assert [r["id"] for r in mine["runs"]] == [runs["bo-run"]]
    waiting = api.client.get(url, params={"status": "waiting"}, headers=api.admin).json()
    assert [r["contact_id"] for r in waiting["runs"]] == [runs["bo"], runs["ana"]]
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get(url, params=params, headers=api.admin).json()
        seen += [r["contact_id"] for r in page["runs"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [runs["cy"], runs["bo"], runs["ana"]]


def test_runs_answer_bad_input_and_unknown_workflows(api: Api, runs: dict[str, str]) -> None:
    url = f"/v1/automations/{runs['workflow']}/runs"
    assert api.client.get(url).status_code == 401
    wrong = api.client.get(url, params={"status": "sleeping"}, headers=api.admin)
    assert wrong.status_code in (400, 422)
    assert "status" in wrong.text
    bad = api.client.get(url, params={"cursor": "nonsense"}, headers=api.admin)
    assert bad.status_code in (400, 422)
    assert api.client.get("/v1/automations/nope/runs", headers=api.admin).status_code == 404


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_SECRET_KEY", "cli-secret")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_cli_lists_runs_like_the_api(runs: dict[str, str], cli_env: CliRunner) -> None:
    flow = runs["workflow"]
    done = cli_env.invoke(cli, ["automations", "runs", flow, "--status", "exited"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        f"{runs['cy']}\texited\tpause\t-\tunsubscribed\t2025-06-02T12:00:00Z\t2025-06-02T12:00:00Z"
    ]
    as_json = cli_env.invoke(cli, ["automations", "runs", flow, "--contact", runs["ana"], "--json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert [r["id"] for r in body["runs"]] == [runs["ana-run"]]
    assert body["next"] is None
    paged = cli_env.invoke(cli, ["automations", "runs", flow, "--limit", "1"])
    assert len(paged.stdout.splitlines()) == 1
    assert "more: --cursor " in paged.stderr
    helped = cli_env.invoke(cli, ["automations", "runs", "--help"])
    assert "--contact" in helped.stdout
    assert "--status" in helped.stdout


def test_the_timeline_shows_the_persons_runs_and_held_messages(api: Api) -> None:
    night = dt.datetime(2025, 6, 2, 22, 0, tzinfo=dt.UTC)  # midnight in Madrid
    api.services.clock = FrozenClock(night)
    flow = active_workflow(api.services)
    ana = person(api.services, {"email": "ana@example.com"}, timezone="Europe/Madrid")
    run = enrol(api.services, flow, ana)
    report = dispatch_due(
        api.services, {"email": RecordingChannel("email")}, quiet=QuietHours("21:00", "08:00")
    )
    assert report.postponed == 1
    answer = api.client.get(f"/v1/contacts/{ana}/timeline", headers=api.admin)
    assert answer.status_code == 200, answer.text
    profile = answer.json()["profile"]
    [shown] = profile["workflow_runs"]
    assert shown == {
        "id": run,
        "workflow_id": "welcome",
        "workflow": "Welcome",
        "status": "waiting",
        "step_id": "pause",
        "wake_at": "2025-06-04T22:00:00Z",
        "exit_reason": None,
        "entered_at": "2025-06-02T22:00:00Z",
        "updated_at": "2025-06-02T22:00:00Z",
    }
    [held] = profile["held_messages"]
    assert (held["channel"], held["template"], held["run_id"]) == ("email", "welcome", run)
    assert held["until"] == "2025-06-03T06:00:00Z"
    assert held["reason"] == (
        "quiet hours 21:00-08:00 in Europe/Madrid until 2025-06-03 08:00 local time"
    )
