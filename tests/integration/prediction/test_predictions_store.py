"""Predicted value kept on profiles: ``contact_predictions`` replaced set-wise, ``Churn Risk
Rose`` on a fall below the threshold, the ``clv`` job queued by REST and run by the worker,
and ``lealta clv --from-store --save`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.config import get_settings
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.identity.service import find_contact
from lealta.jobs import service as jobs
from lealta.jobs.runner import run_next
from lealta.prediction.job import options_from
from lealta.prediction.store import CHURN_RISK_ROSE, save_predictions
from lealta.prediction.tables import ContactPrediction
from tests.integration.conftest import Api

DATA = Path(__file__).parents[2] / "data" / "cdnow_sample.csv.gz"
START = dt.datetime(2025, 1, 6, 12, 0, tzinfo=dt.UTC)
NAMES = ("ana", "ben", "cruz")


def post_orders(api: Api, orders: list[dict[str, Any]]) -> None:
    for start in range(0, len(orders), 1000):
        batch = orders[start : start + 1000]
        answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
        assert answer.json()["accepted"] == len(batch)
    api.drain()


def cdnow_orders(customers: int) -> list[dict[str, Any]]:
    """The CDNOW sample's purchases of its first ``customers`` customers, as store orders."""
    with gzip.open(DATA, "rt", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["master_id"]) <= customers * 4]
    return [
        {
            "user_id": f"cd{r['master_id']}",
            "id": f"cd{r['master_id']}-{k}",
            "placed_at": dt.datetime.strptime(r["date"], "%Y%m%d")
            .replace(hour=12, tzinfo=dt.UTC)
            .isoformat(),
            "amount": r["dollar_value"],
        }
        for k, r in enumerate(rows)
        if float(r["dollar_value"]) > 0
    ]


def three_contacts(api: Api) -> dict[str, str]:
    post_orders(
        api,
        [
            {"user_id": n, "id": f"{n}-1", "placed_at": START.isoformat(), "amount": "10.00"}
            for n in NAMES
        ],
    )
    with api.services.uow.transaction() as session:
        return {n: find_contact(session, "user_id", n).id for n in NAMES}  # type: ignore[union-attr]


def frame(ids: list[str], p_alive: list[float], bands: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ids,
            "p_alive": p_alive,
            "expected_purchases": [1.5] * len(ids),
            "expected_spend": [float("nan")] + [20.0] * (len(ids) - 1),
            "clv": [30.0 + i for i in range(len(ids))],
            "churn_risk": bands,
        }
    )


def saved(api: Api) -> dict[str, tuple[float, str, float, float]]:
    with api.services.uow.transaction() as session:
        return {
            r.contact_id: (r.p_alive, r.churn_band, r.clv, r.expected_spend)
            for r in session.scalars(select(ContactPrediction))
        }


def churn_events(api: Api) -> list[tuple[str, dict[str, Any]]]:
    with api.services.uow.transaction() as session:
        query = select(Event.contact_id, Event.properties).where(Event.name == CHURN_RISK_ROSE)
        return sorted((str(c), dict(p)) for c, p in session.execute(query))


def test_a_run_replaces_every_row_and_a_fall_below_the_threshold_is_an_event(api: Api) -> None:
    ids = three_contacts(api)
    ana, ben, cruz = (ids[n] for n in NAMES)
    first = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        done = save_predictions(
            session,
            frame(
                [ana, ben, cruz, "no-such-contact"],
                [0.8, 0.5, 0.2, 0.9],
                ["low", "medium", "high", "low"],
            ),
            horizon_days=90,
            version="v1",
            now=first,
        )
    # the unknown id is skipped; the spend the model could not give is stored as 0
    assert (done.contacts, done.risen) == (3, 0)
    assert saved(api) == {
        ana: (0.8, "low", 30.0, 0.0),
        ben: (0.5, "medium", 31.0, 20.0),
        cruz: (0.2, "high", 32.0, 20.0),
    }
    assert churn_events(api) == []  # a first run: nothing rose
    with api.services.uow.transaction() as session:
        done = save_predictions(
            session,
            frame([ana, cruz], [0.25, 0.1], ["high", "high"]),
            horizon_days=30,
            version="v2",
            now=first + dt.timedelta(days=1),
        )
    # ben is gone from the run, so from the table; cruz was already below 0.3: no event
    assert (done.contacts, done.risen, done.params_version) == (2, 1, "v2")
    assert set(saved(api)) == {ana, cruz}
    assert churn_events(api) == [
        (ana, {"p_alive": 0.25, "previous": 0.8, "band": "high", "below": 0.3})
    ]
    with api.services.uow.transaction() as session:
        row = session.get(ContactPrediction, ana)
        assert row is not None
        assert (row.horizon_days, row.params_version) == (30, "v2")


def test_the_rest_route_queues_a_clv_job_that_the_worker_fits_and_saves(api: Api) -> None:
    post_orders(api, cdnow_orders(60))
    answer = api.client.post(
        "/v1/segmentation/clv", json={"horizon_days": 30, "alert_below": 0.4}, headers=api.admin
    )
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    again = api.client.post("/v1/segmentation/clv", headers=api.admin)
    assert (again.status_code, again.json()["id"]) == (200, job_id)  # one at a time
    assert answer.headers["location"].endswith(f"/v1/jobs/{job_id}")
    assert saved(api) == {}  # nothing fitted inside the request
    ran = run_next(api.services)
    assert ran is not None
    assert ran.id == job_id
    with api.services.uow.transaction() as session:
        job = jobs.get(session, job_id)
        assert job.status == "done", job.error
        result = dict(job.result or {})
    rows = saved(api)
    assert result["customers"] == len(rows) > 10
    assert result["horizon_days"] == 30
    assert sum(result["bands"].values()) == len(rows)
    assert set(result["params"]) == {"bgnbd", "gamma_gamma"}
    assert all(
        0 <= p <= 1 and band in {"low", "medium", "high", "new"} for p, band, _, _ in rows.values()
    )
    some = next(iter(rows))
    one = api.client.get(f"/v1/contacts/{some}/prediction", headers=api.admin)
    assert one.status_code == 200
    assert one.json()["p_alive"] == pytest.approx(rows[some][0])
    assert one.json()["horizon_days"] == 30


def test_the_job_s_options_are_checked_by_name() -> None:
    with pytest.raises(InvalidInput) as unknown:
        options_from({"horizon": 30})
    assert unknown.value.field == "horizon"
    with pytest.raises(InvalidInput) as threshold:
        options_from({"alert_below": 1.5})
    assert threshold.value.field == "alert_below"
    options, alert = options_from({"horizon_days": 60, "period": "day"})
    assert (options.horizon_days, options.period, alert) == (60, "day", 0.3)


def test_the_rest_route_refuses_unknown_options(api: Api) -> None:
    answer = api.client.post("/v1/segmentation/clv", json={"horizon": 30}, headers=api.admin)
    assert answer.status_code == 422


def test_clv_from_store_save_writes_the_predictions(
    api: Api, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_orders(api, cdnow_orders(40))
    params = tmp_path / "params.json"
    params.write_text(
        json.dumps(
            {
                "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
            }
        )
    )
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["clv", "--from-store", "--save", "--params", str(params), "--horizon", "13w"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    rows = saved(api)
    assert f"Saved {len(rows):,} contacts' predictions" in result.stdout
    assert len(rows) > 5
    with api.services.uow.transaction() as session:
        horizons = set(session.scalars(select(ContactPrediction.horizon_days)))
    assert horizons == {91}


def test_save_needs_from_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["clv", str(tmp_path / "x.csv"), "--save"])
    assert result.exit_code == 2
    assert "--save writes to the store" in result.stderr


def test_predictions_are_exported_erased_and_dropped_for_a_merged_away_profile(api: Api) -> None:
    from lealta.contacts.tables import Contact
    from lealta.identity.service import merge
    from lealta.privacy.erase import erase_contact
    from lealta.privacy.export import export_contact

    ids = three_contacts(api)
    ana, ben, cruz = (ids[n] for n in NAMES)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        save_predictions(
            session,
            frame([ana, ben, cruz], [0.8, 0.5, 0.2], ["low", "medium", "high"]),
            horizon_days=90,
            version="v1",
            now=now,
        )
    with api.services.uow.transaction() as session:
        exported = export_contact(session, ana, now=now)
    [mine] = exported["predicted_value"]
    assert (mine["contact_id"], mine["p_alive"], mine["churn_band"], mine["clv"]) == (
        ana,
        0.8,
        "low",
        30.0,
    )
    with api.services.uow.transaction() as session:
        erase_contact(session, ana, now=now)
    assert set(saved(api)) == {ben, cruz}
    with api.services.uow.transaction() as session:
        source, into = session.get(Contact, ben), session.get(Contact, cruz)
        assert source is not None
        assert into is not None
        merge(session, source, into=into, now=now)
    # ben's row goes with him; cruz keeps his own until the next run fits on both's orders
    assert set(saved(api)) == {cruz}


def test_contacts_are_found_by_p_alive_clv_and_churn_band(api: Api) -> None:
    ids = three_contacts(api)
    ana, ben, cruz = (ids[n] for n in NAMES)
    with api.services.uow.transaction() as session:
        save_predictions(
            session,
            frame([ana, ben, cruz], [0.8, 0.25, 0.3], ["low", "high", "medium"]),
            horizon_days=90,
            version="v1",
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )

    def found(query: str) -> set[str]:
        answer = api.client.get(f"/v1/contacts?{query}", headers=api.admin)
        assert answer.status_code == 200, answer.text
        return {c["id"] for c in answer.json()["contacts"]}

    assert found("p_alive_max=0.3") == {ben, cruz}  # at most: 0.3 itself matches
    assert found("clv_min=31") == {ben, cruz}  # clv 30, 31, 32
    assert found("churn_band=high") == {ben}
    assert found("p_alive_max=0.3&clv_min=32") == {cruz}
    assert found("churn_band=low&p_alive_max=0.5") == set()
    bad = api.client.get("/v1/contacts?churn_band=gone", headers=api.admin)
    assert bad.status_code == 422
    assert "churn_band" in bad.text


def test_search_names_a_wrong_prediction_filter(api: Api) -> None:
    from lealta.contacts.search import ContactFilter, search

    for wanted, name in (
        (ContactFilter(churn_band="gone"), "churn_band"),
        (ContactFilter(p_alive_max=1.5), "p_alive_max"),
    ):
        with api.services.uow.transaction() as session, pytest.raises(InvalidInput) as problem:
            search(session, wanted)
        assert problem.value.field == name


def test_templates_read_contact_prediction(api: Api) -> None:
    from lealta.messages.context import contexts_for
    from lealta.messages.render import render_value

    ids = three_contacts(api)
    ana, ben = ids["ana"], ids["ben"]
    with api.services.uow.transaction() as session:
        save_predictions(
            session,
            frame([ana], [0.25], ["high"]),
            horizon_days=90,
            version="v1",
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    now = api.services.clock.now()
    with api.services.uow.transaction() as session:
        found = contexts_for(session, [ana, ben], now)
    text = (
        "{% if contact.prediction %}{{ contact.prediction.churn_band }} "
        "{{ '%.2f' | format(contact.prediction.p_alive) }} "
        "{{ contact.prediction.horizon_days }}{% else %}none{% endif %}"
    )
    assert render_value(text, found[ana]) == "high 0.25 90"
    assert render_value(text, found[ben]) == "none"


WIN_BACK = """
id: win-back
name: Win back
trigger:
  type: event
  event: Churn Risk Rose
  where: [{property: band, op: equals, value: high}]
steps:
  - {id: tag, type: tag, add: [win-back], next: done}
  - {id: done, type: exit}
"""


def test_a_fall_below_the_threshold_starts_a_win_back_workflow(api: Api) -> None:
    from lealta.automations import service as workflows
    from lealta.automations.tables import Run

    ids = three_contacts(api)
    ana, ben = ids["ana"], ids["ben"]
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        workflows.save(session, WIN_BACK, now=now)
        workflows.set_status(session, "win-back", "active", now=now)
        save_predictions(
            session, frame([ana, ben], [0.9, 0.6], ["low", "medium"]), horizon_days=90,
            version="v1", now=now,
        )  # fmt: skip
    with api.services.uow.transaction() as session:
        save_predictions(
            session, frame([ana, ben], [0.1, 0.5], ["high", "medium"]), horizon_days=90,
            version="v2", now=now + dt.timedelta(days=7),
        )  # fmt: skip
        again = save_predictions(
            session, frame([ana, ben], [0.1, 0.5], ["high", "medium"]), horizon_days=90,
            version="v2", now=now + dt.timedelta(days=8),
        )  # fmt: skip
    assert again.risen == 0  # already below: no second event
    with api.services.uow.transaction() as session:
        runs = session.execute(select(Run.workflow_id, Run.contact_id)).all()
    assert [tuple(r) for r in runs] == [("win-back", ana)]
