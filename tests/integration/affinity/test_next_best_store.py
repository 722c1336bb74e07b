"""Affinity on the store's orders: next-best items saved per contact, the REST routes, the
job and the template context (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lealta.affinity.options import AffinityOptions
from lealta.affinity.schedule import KIND, due, run_job
from lealta.affinity.store import next_best_from_store, order_lines
from lealta.affinity.tables import ContactNextBest
from lealta.identity.service import find_contact
from lealta.jobs import service as jobs
from lealta.jobs.runner import run_next
from lealta.messages.context import contexts_for
from lealta.privacy.erase import erase_contact
from tests.integration.conftest import Api

START = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)

# (customer, order id, days after START, categories of its items)
ORDERS = [
    ("ana", "o1", 0, ["Apparel"]),
    ("ana", "o2", 10, ["Shoes"]),
    ("ben", "o3", 1, ["Apparel"]),
    ("ben", "o4", 5, ["Shoes", "Bags"]),
    ("cruz", "o5", 2, ["Apparel", "Beauty"]),
    ("dana", "o6", 3, ["Bags"]),
]


def post_orders(api: Api, orders: list[tuple[str, str, int, list[str]]] = ORDERS) -> None:
    batch = [
        {
            "user_id": customer,
            "id": order_id,
            "placed_at": (START + dt.timedelta(days=days)).isoformat(),
            "amount": "50.00",
            "items": [
                {"product_id": f"{c[:3].upper()}-1", "category": c, "price": "25", "quantity": 1}
                for c in categories
            ],
        }
        for customer, order_id, days, categories in orders
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.json()["accepted"] == len(orders)
    api.drain()


def contact_ids(api: Api) -> dict[str, str]:
    with api.services.uow.transaction() as session:
        found = {n: find_contact(session, "user_id", n) for n in ("ana", "ben", "cruz", "dana")}
        return {name: c.id for name, c in found.items() if c is not None}


def saved(api: Api) -> dict[str, list[tuple[int, str, float]]]:
    with api.services.uow.transaction() as session:
        rows = session.scalars(select(ContactNextBest).order_by(ContactNextBest.rank))
        found: dict[str, list[tuple[int, str, float]]] = {}
        for row in rows:
            found.setdefault(row.contact_id, []).append((row.rank, row.item, row.score))
        return found


def test_next_best_categories_are_saved_for_every_contact(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    run = next_best_from_store(api.services, AffinityOptions(min_count=1))
    # Customers: 4. First purchases: Apparel (ana d0, ben d1, cruz d2), Shoes (ana d10, ben d5),
    # Bags (ben d5, dana d3), Beauty (cruz d2).
    # Rules: Apparel -> Shoes 2/3 (ana, ben), Apparel -> Bags 1/3 (ben).
    assert (run.rules, run.lines, run.kind) == (2, 8, "category")
    rows = saved(api)
    # cruz holds Apparel and Beauty: Shoes 2/3, then Bags 1/3
    assert [(rank, item) for rank, item, _ in rows[ids["cruz"]]] == [(1, "Shoes"), (2, "Bags")]
    assert rows[ids["cruz"]][0][2] == pytest.approx(2 / 3)
    # ana holds Apparel and Shoes: only Bags left; ben holds everything a rule leads to
    assert [item for _, item, _ in rows[ids["ana"]]] == ["Bags"]
    assert ids["ben"] not in rows
    assert ids["dana"] not in rows
    assert run.contacts == 2
    assert run.suggestions == 3


def test_a_new_run_replaces_the_previous_rows(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    next_best_from_store(api.services, AffinityOptions(min_count=1))
    # with at least 2 customers per rule only Apparel -> Shoes is left: ana loses Bags
    next_best_from_store(api.services, AffinityOptions(min_count=2))
    rows = saved(api)
    assert set(rows) == {ids["cruz"]}
    assert [item for _, item, _ in rows[ids["cruz"]]] == ["Shoes"]


def test_products_come_from_the_items_product_id(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    next_best_from_store(api.services, AffinityOptions(by="product", min_count=2))
    with api.services.uow.transaction() as session:
        row = session.scalars(select(ContactNextBest)).one()
    assert (row.contact_id, row.item, row.kind) == (ids["cruz"], "SHO-1", "product")


def test_the_rest_routes_answer_pairs_and_a_contacts_items(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    answer = api.client.get("/v1/affinity?min_count=1", headers=api.admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # baskets: 6; Shoes with Bags in o4 only: support 1/6; Shoes in 2, Bags in 2: lift 3/2
    pair = next(p for p in body["pairs"] if (p["item_a"], p["item_b"]) == ("Shoes", "Bags"))
    assert (pair["n_ab"], pair["n"]) == (1, 6)
    assert pair["lift"] == pytest.approx(1.5)
    assert body["as_of"] == (START + dt.timedelta(days=11)).date().isoformat()
    sequence = api.client.get("/v1/affinity?sequence=true&min_count=2", headers=api.admin).json()
    assert [(p["item_a"], p["item_b"]) for p in sequence["pairs"]] == [("Apparel", "Shoes")]
    empty = api.client.get(f"/v1/contacts/{ids['cruz']}/next-best", headers=api.admin).json()
    assert empty == {"contact_id": ids["cruz"], "items": [], "computed_at": None}
    next_best_from_store(api.services, AffinityOptions(min_count=1))
    mine = api.client.get(f"/v1/contacts/{ids['cruz']}/next-best", headers=api.admin).json()
    assert [(i["rank"], i["item"], i["kind"]) for i in mine["items"]] == [
        (1, "Shoes", "category"),
        (2, "Bags", "category"),
    ]
    assert mine["computed_at"] is not None
    bad = api.client.get("/v1/affinity?by=brand", headers=api.admin)
    assert bad.status_code == 422
    assert "by" in bad.text
    missing = api.client.get("/v1/contacts/nobody/next-best", headers=api.admin)
    assert missing.status_code == 404


def test_without_order_items_the_api_says_so(api: Api) -> None:
    answer = api.client.get("/v1/affinity", headers=api.admin)
    assert answer.status_code == 400
    assert "no order lines" in answer.text


def test_the_job_saves_them_and_is_queued_after_rfm(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    answer = api.client.post(
        "/v1/affinity/next-best/jobs", json={"min_count": 1, "top": 1}, headers=api.admin
    )
    assert answer.status_code == 202, answer.text
    again = api.client.post("/v1/affinity/next-best/jobs", json={}, headers=api.admin)
    assert again.status_code == 200
    assert again.json()["id"] == answer.json()["id"]
    assert answer.headers["location"].endswith(f"/v1/jobs/{answer.json()['id']}")
    assert again.headers["location"] == answer.headers["location"]
    job = run_next(api.services)
    assert job is not None
    with api.services.uow.transaction() as session:
        done = jobs.get(session, job.id)
        assert (done.status, done.result["suggestions"]) == ("done", 2), done.error
    assert {cid: [item for _, item, _ in items] for cid, items in saved(api).items()} == {
        ids["cruz"]: ["Shoes"],
        ids["ana"]: ["Bags"],
    }
    now = api.services.clock.now()
    with api.services.uow.transaction() as session:
        assert not due(session, "after_rfm", now)  # no RFM job since
        assert not due(session, "daily", now)  # one asked today already
        assert not due(session, "off", now)
    rfm = api.client.post("/v1/segmentation/rfm/jobs", json={}, headers=api.admin).json()
    assert run_next(api.services) is not None
    with api.services.uow.transaction() as session:
        assert jobs.get(session, rfm["id"]).status == "done"
        assert due(session, "after_rfm", api.services.clock.now())
        assert due(session, "daily", now + dt.timedelta(days=1))


def test_a_job_on_orders_without_items_ends_with_nothing_to_do(api: Api) -> None:
    post_orders(api, [("ana", "o1", 0, [])])
    result = run_job(api.services, {}, lambda _f, _s: None)
    assert result["suggestions"] == 0
    assert "no order lines" in result["note"]


def test_templates_read_contact_next_best_and_erasure_removes_them(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    next_best_from_store(api.services, AffinityOptions(min_count=1))
    now = api.services.clock.now()
    with api.services.uow.transaction() as session:
        found = contexts_for(session, [ids["cruz"], ids["dana"]], now)
    assert [s["item"] for s in found[ids["cruz"]]["contact"]["next_best"]] == ["Shoes", "Bags"]
    assert found[ids["dana"]]["contact"]["next_best"] == []
    with api.services.uow.transaction() as session:
        erase_contact(session, ids["cruz"], now=now)
    assert ids["cruz"] not in saved(api)
    gone = api.client.get(f"/v1/contacts/{ids['cruz']}/next-best", headers=api.admin)
    assert gone.status_code == 410


@pytest.mark.parametrize(
    ("item", "lines"),
    [
        ({"sku": "S1", "price": "5", "quantity": 2}, [("S1", None, 2.0, 10.0)]),
        ({"category": "Hats"}, [(None, "Hats", 1.0, 30.0)]),
        ("not an item", []),
    ],
)
def test_order_lines_of_a_stored_order(item: Any, lines: list[tuple[Any, ...]]) -> None:
    found = order_lines("c1", "o1", START, "30.00", [item])
    assert [(r["product_id"], r["category"], r["quantity"], r["amount"]) for r in found] == lines
    assert all(r["placed_at"].tzinfo is None for r in found)


def test_unknown_job_params_name_the_field(api: Api) -> None:
    from lealta.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        run_job(api.services, {"colour": "red"}, lambda _f, _s: None)
    assert caught.value.field == "colour"
    assert KIND == "next_best"


def test_the_cli_reads_the_store_and_saves_next_best(
    api: Api, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from lealta.cli.main import app
    from lealta.config import get_settings

    post_orders(api)
    ids = contact_ids(api)
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    try:
        out = tmp_path / "next.csv"
        result = CliRunner().invoke(
            app, ["affinity", "--from-store", "--min-count", "1", "--next-best", str(out)]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    assert "saved 3 suggestions (contact_next_best)" in result.stderr
    assert "Apparel" in result.stderr  # the pairs table
    assert [item for _, item, _ in saved(api)[ids["cruz"]]] == ["Shoes", "Bags"]
    assert out.read_text(encoding="utf-8").count(ids["cruz"]) == 2
