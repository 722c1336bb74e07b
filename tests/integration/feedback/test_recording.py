"""Recording interactions and suppressing addresses, directly through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lealta.channels.tables import Suppression
from lealta.conditions import MessageCondition, evaluate
from lealta.conditions.views import contact_views
from lealta.errors import InvalidInput, NotFound
from lealta.feedback import is_suppressed, record, suppress, unsuppress
from lealta.feedback.suppressions import list_
from lealta.privacy.erase import erase_contact
from tests.integration.feedback.conftest import Feedback

AT = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_a_dedupe_key_records_once(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    with feedback.api.services.uow.transaction() as session:
        first = record(
            session, outbox_id=outbox_id, kind="delivered", at=AT, dedupe_key="provider:abc"
        )
        again = record(
            session, outbox_id=outbox_id, kind="delivered", at=AT, dedupe_key="provider:abc"
        )
        assert first is not None
        assert again is None
    assert len(feedback.interactions(outbox_id, "delivered")) == 1
    assert len(feedback.events(ann, "Email Delivered")) == 1


def test_a_conversion_carries_order_and_revenue_to_the_timeline(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    with feedback.api.services.uow.transaction() as session:
        record(
            session,
            outbox_id=outbox_id,
            kind="converted",
            at=AT,
            order_id="o-1",
            revenue=Decimal("49.90"),
            dedupe_key=f"{outbox_id}:o-1",
        )
    [event] = feedback.events(ann, "Message Converted")
    assert event.properties["order_id"] == "o-1"
    assert event.properties["revenue"] == pytest.approx(49.9)


def test_unknown_kinds_and_messages_are_refused(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    with feedback.api.services.uow.transaction() as session:
        with pytest.raises(InvalidInput) as caught:
            record(session, outbox_id=outbox_id, kind="liked", at=AT)
        assert caught.value.field == "kind"
        with pytest.raises(NotFound):
            record(session, outbox_id=outbox_id + 1000, kind="opened", at=AT)


def test_an_erased_person_is_not_tracked_any_more(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    with feedback.api.services.uow.transaction() as session:
        erase_contact(session, ann, now=AT)
    answer = feedback.api.client.get(feedback.path(feedback.links.open_pixel(outbox_id)))
    assert answer.status_code == 200
    assert feedback.interactions(outbox_id, "opened") == []
    assert feedback.api.client.get(feedback.path(feedback.links.preferences(ann))).status_code == (
        404
    )


def test_message_conditions_see_clicks_recorded_here(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann, template="cart-reminder")
    entered = AT - dt.timedelta(hours=1)
    with feedback.api.services.uow.transaction() as session:
        record(session, outbox_id=outbox_id, kind="opened", at=AT)
        view = contact_views(session, [ann], now=AT + dt.timedelta(minutes=1))[ann]
    opened = MessageCondition(template="cart-reminder", action="opened")
    clicked = MessageCondition(template="cart-reminder", action="clicked")
    later = AT + dt.timedelta(minutes=1)
    assert evaluate(opened, view, now=later, entered_at=entered)
    assert not evaluate(clicked, view, now=later, entered_at=entered)


def test_suppressing_is_idempotent_and_keeps_the_first_reason(feedback: Feedback) -> None:
    with feedback.api.services.uow.transaction() as session:
        first = suppress(
            session,
            channel="email",
            address="Ann@Example.com ",
            reason="bounce",
            source="ses",
            details={"status": "5.1.1"},
            at=AT,
        )
        again = suppress(
            session,
            channel="email",
            address="ann@example.com",
            reason="complaint",
            source="api",
            at=AT + dt.timedelta(days=1),
        )
        assert first.id == again.id
        assert (again.address, again.reason, again.details) == (
            "ann@example.com",
            "bounce",
            {"status": "5.1.1"},
        )
        assert is_suppressed(session, "email", "ANN@example.com")
        assert not is_suppressed(session, "sms", "ann@example.com")
        assert not is_suppressed(session, "email", "bob@example.com")
        count = session.scalar(select(func.count()).select_from(Suppression))
        assert count == 1


def test_phone_numbers_are_suppressed_in_one_form(feedback: Feedback) -> None:
    with feedback.api.services.uow.transaction() as session:
        suppress(
            session, channel="sms", address="+34 600 12 34 56", reason="stop", source="sms", at=AT
        )
        assert is_suppressed(session, "sms", "+34600123456")
        suppress(
            session, channel="push", address="Tok3n", reason="invalid_token", source="fcm", at=AT
        )
        assert is_suppressed(session, "push", "Tok3n")
        assert not is_suppressed(session, "push", "tok3n")  # device tokens are case-sensitive
        assert [row.channel for row in list_(session)] == ["push", "sms"]
        assert [row.address for row in list_(session, channel="sms")] == ["+34600123456"]


def test_a_suppression_can_be_lifted(feedback: Feedback) -> None:
    with feedback.api.services.uow.transaction() as session:
        suppress(
            session,
            channel="email",
            address="ann@example.com",
            reason="manual",
            source="api",
            at=AT,
        )
        assert unsuppress(session, "email", "ANN@example.com")
        assert not unsuppress(session, "email", "ann@example.com")
        assert not is_suppressed(session, "email", "ann@example.com")
