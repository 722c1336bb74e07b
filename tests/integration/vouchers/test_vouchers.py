"""Vouchers on SQLite and PostgreSQL: issuing, looking up, redeeming, over the API too."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.events.tables import Event
from lealta.storage.retry import in_transaction
from lealta.storage.unit_of_work import UnitOfWork
from lealta.vouchers import service
from lealta.vouchers.codes import format_code
from lealta.vouchers.tables import Voucher
from tests.factories import contacts
from tests.integration.conftest import Api

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def person(uow: UnitOfWork, email: str = "ana@example.com") -> str:
    with uow.transaction() as session:
        return contacts.person(session, NOW, email=email).id


def issue(uow: UnitOfWork, contact_id: str, key: str = "k1", **changes: object) -> Voucher:
    options: dict[str, object] = {
        "kind": "amount",
        "value": "10",
        "currency": "eur",
        "valid_days": 30,
        "now": NOW,
        "source": "test",
    }
    options.update(changes)
    with uow.transaction() as session:
        return service.issue(session, key=key, contact_id=contact_id, **options)  # type: ignore[arg-type]


def test_issuing_is_idempotent_on_its_key(uow: UnitOfWork) -> None:
    ana = person(uow)
    first = issue(uow, ana)
    again = issue(uow, ana, value="99")
    other = issue(uow, ana, key="k2")
    assert first.code == again.code != other.code
    assert first.value == Decimal("10.00")
    assert first.currency == "EUR"
    assert first.expires_at is not None
    assert first.expires_at.replace(tzinfo=dt.UTC) == NOW + dt.timedelta(days=30)
    with uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Voucher)) == 2
        assert [v.code for v in service.list_for_contact(session, ana)] == sorted(
            [first.code, other.code]
        )


def test_a_code_is_found_however_it_is_typed(uow: UnitOfWork) -> None:
    voucher = issue(uow, person(uow))
    typed = format_code(voucher.code).lower().replace("-", " ")
    with uow.transaction() as session:
        assert service.get(session, typed).code == voucher.code
        with pytest.raises(NotFound):
            service.get(session, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")


def test_bad_vouchers_are_refused_naming_the_field(uow: UnitOfWork) -> None:
    ana = person(uow)
    for changes, field in (
        ({"kind": "gift"}, "kind"),
        ({"kind": "percent", "value": "150"}, "value"),
        ({"currency": None}, "currency"),
        ({"value": "-5"}, "value"),
        ({"valid_days": 0}, "valid_days"),
    ):
        with pytest.raises(InvalidInput) as error:
            issue(uow, ana, key=f"bad-{field}-{changes}", **changes)
        assert error.value.field == field
    with pytest.raises(NotFound):
        issue(uow, "no-such-contact")


def test_redeeming_marks_it_used_and_tells_the_history(uow: UnitOfWork) -> None:
    ana = person(uow)
    voucher = issue(uow, ana)
    later = NOW + dt.timedelta(days=3)
    with uow.transaction() as session:
        used = service.redeem(session, voucher.code.lower(), order_id="A-1", now=later)
        assert used.redeemed_order == "A-1"
    with uow.transaction() as session:
        again = service.redeem(session, voucher.code, order_id="A-1", now=later)  # a retry
        assert again.redeemed_order == "A-1"
        with pytest.raises(
            Conflict, match=r"already redeemed on 2025-06-05T10:00:00\+00:00 by order A-1"
        ):
            service.redeem(session, voucher.code, order_id="B-2", now=later)
        events = session.execute(
            select(Event.contact_id, Event.properties).where(Event.name == "Voucher Redeemed")
        ).all()
    assert [(c, p) for c, p in events] == [
        (
            ana,
            {
                "code": voucher.code,
                "order_id": "A-1",
                "value": 10.0,
                "kind": "amount",
                "currency": "EUR",
            },
        )
    ]


def test_an_expired_voucher_cannot_be_redeemed(uow: UnitOfWork) -> None:
    voucher = issue(uow, person(uow), valid_days=7)
    with uow.transaction() as session, pytest.raises(InvalidInput) as error:
        service.redeem(session, voucher.code, order_id="A-1", now=NOW + dt.timedelta(days=7))
    assert error.value.field == "code"
    assert "expired on 2025-06-09T10:00:00+00:00" in str(error.value)


def test_two_redemptions_at_once_have_exactly_one_winner(uow: UnitOfWork) -> None:
    voucher = issue(uow, person(uow))
    start = threading.Barrier(4)
    won: list[str] = []
    lost: list[str] = []
    failures: list[BaseException] = []

    def checkout(order: str) -> None:
        try:
            start.wait()
            in_transaction(uow, lambda s: service.redeem(s, voucher.code, order_id=order, now=NOW))
            won.append(order)
        except Conflict:
            lost.append(order)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=checkout, args=(f"order-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(won) == 1
    assert len(lost) == 3
    with uow.transaction() as session:
        stored = session.get(Voucher, voucher.code)
        assert stored is not None
        assert stored.redeemed_order == won[0]
        assert (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.name == "Voucher Redeemed")
            )
            == 1
        )


def contact(api: Api, email: str = "ana@example.com") -> str:
    answer = api.client.post(
        "/v1/contacts", headers=api.admin, json={"identifiers": {"email": email}}
    )
    assert answer.status_code == 201, answer.text
    found: str = answer.json()["id"]
    return found


def test_the_voucher_api(api: Api) -> None:
    ana = contact(api)
    body = {"contact_id": ana, "kind": "percent", "value": "15", "valid_days": 14, "key": "w-1"}
    issued = api.client.post("/v1/vouchers", headers=api.admin, json=body)
    assert issued.status_code == 201, issued.text
    voucher = issued.json()
    assert voucher["kind"] == "percent"
    assert Decimal(voucher["value"]) == Decimal("15")
    assert voucher["display"] == format_code(voucher["code"])
    assert voucher["redeemed_at"] is None
    assert api.client.post("/v1/vouchers", headers=api.admin, json=body).json() == voucher

    code = voucher["display"].lower()
    looked_up = api.client.get(f"/v1/vouchers/{code}", headers=api.admin)
    assert looked_up.status_code == 200
    assert looked_up.json()["code"] == voucher["code"]
    listed = api.client.get(f"/v1/contacts/{ana}/vouchers", headers=api.admin).json()
    assert [v["code"] for v in listed["vouchers"]] == [voucher["code"]]

    redeem = f"/v1/vouchers/{voucher['code']}/redeem"
    used = api.client.post(redeem, headers=api.admin, json={"order_id": "A-1"})
    assert used.status_code == 200, used.text
    assert used.json()["redeemed_order"] == "A-1"
    assert api.client.post(redeem, headers=api.admin, json={"order_id": "A-1"}).status_code == 200
    taken = api.client.post(redeem, headers=api.admin, json={"order_id": "B-2"})
    assert taken.status_code == 409
    assert "by order A-1" in taken.json()["error"]["message"]
    missing = api.client.post(
        "/v1/vouchers/ZZZZ-ZZZZ-ZZZZ-ZZZZ/redeem", headers=api.admin, json={"order_id": "C"}
    )
    assert missing.status_code == 404
    assert api.client.get("/v1/vouchers/nope!", headers=api.admin).status_code == 400
    assert api.client.get(f"/v1/vouchers/{code}").status_code == 401


def test_the_api_refuses_expired_and_invalid_vouchers(api: Api) -> None:
    ana = contact(api)
    body = {"contact_id": ana, "kind": "amount", "value": "5", "currency": "EUR", "valid_days": 1}
    code = api.client.post("/v1/vouchers", headers=api.admin, json=body).json()["code"]
    with api.services.uow.transaction() as session:
        stored = session.get(Voucher, code)
        assert stored is not None
        stored.expires_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    expired = api.client.post(
        f"/v1/vouchers/{code}/redeem", headers=api.admin, json={"order_id": "A-1"}
    )
    assert expired.status_code == 400
    assert expired.json()["error"]["field"] == "code"
    assert "expired on 2020-01-01" in expired.json()["error"]["message"]
    no_currency = {"contact_id": ana, "kind": "amount", "value": "5"}
    refused = api.client.post("/v1/vouchers", headers=api.admin, json=no_currency)
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "currency"
    unknown = {"contact_id": "nobody", "kind": "free_shipping"}
    assert api.client.post("/v1/vouchers", headers=api.admin, json=unknown).status_code == 404
    assert api.client.get("/v1/contacts/nobody/vouchers", headers=api.admin).status_code == 404
