"""Contact rows to ``identify`` messages, event rows to Segment messages."""

from __future__ import annotations

from lealta.imports.columns import CONTACT_ROLES, EVENT_ROLES, attribute_name, map_columns
from lealta.imports.contacts import ContactRows
from lealta.imports.events import EventRows
from lealta.imports.files import Row
from lealta.imports.outcomes import Ready
from lealta.imports.rejects import Rejection

CONTACT_COLUMNS = ["Customer ID", "E-mail", "First Name", "Loyalty Tier", "Phone"]


def test_contact_columns_are_detected_and_the_rest_become_attributes() -> None:
    mapping = map_columns(CONTACT_COLUMNS, CONTACT_ROLES)
    assert mapping == {
        "user_id": "Customer ID", "email": "E-mail", "phone": "Phone", "first_name": "First Name",
    }  # fmt: skip
    rows = ContactRows(mapping, CONTACT_COLUMNS, region="ES")
    cells = ["c1", "Ana@Example.com", "Ana", "gold", ""]
    (out,) = rows.feed([Row(2, dict(zip(CONTACT_COLUMNS, cells, strict=True)))])
    assert isinstance(out, Ready)
    assert out.message["userId"] == "c1"
    assert out.message["traits"] == {
        "first_name": "Ana", "loyalty_tier": "gold", "email": "ana@example.com",
    }  # fmt: skip


def test_contact_rows_without_identifier_or_with_a_bad_email_are_rejected() -> None:
    mapping = map_columns(CONTACT_COLUMNS, CONTACT_ROLES)
    rows = ContactRows(mapping, CONTACT_COLUMNS, region="ES")
    out = rows.feed(
        [
            Row(2, {"Customer ID": "", "E-mail": " ", "First Name": "X"}),
            Row(3, {"Customer ID": "c3", "E-mail": "broken"}),
            Row(4, {"Customer ID": "c4", "Phone": "12"}),
        ]
    )
    assert [(r.line, r.field) for r in out if isinstance(r, Rejection)] == [
        (2, "Customer ID"), (3, "E-mail"), (4, "Phone"),
    ]  # fmt: skip


def test_attribute_names() -> None:
    assert attribute_name("Loyalty Tier") == "loyalty_tier"
    assert attribute_name("2nd address") == "_2nd_address"


def events(columns: list[str], *cells: list[str], flat: bool = True) -> list[object]:
    converter = EventRows(map_columns(columns, EVENT_ROLES), flat=flat, region="ES")
    rows = [Row(i + 2, dict(zip(columns, c, strict=True))) for i, c in enumerate(cells)]
    return list(converter.feed(rows))


def test_event_rows_with_json_or_prefixed_properties() -> None:
    columns = ["type", "event", "user_id", "timestamp", "properties", "properties.plan", "source"]
    out = events(
        columns,
        ["", "Signed Up", "u1", "2025-01-02T03:04:05Z", '{"a": 1}', "pro", "ads"],
    )
    (ready,) = out
    assert isinstance(ready, Ready)
    message = ready.message
    assert message["type"] == "track"
    assert message["userId"] == "u1"
    assert message["properties"] == {"a": 1, "plan": "pro", "source": "ads"}
    assert message["messageId"].startswith("import-event:")
    again = events(
        columns, ["", "Signed Up", "u1", "2025-01-02T03:04:05Z", '{"a": 1}', "pro", "ads"]
    )
    assert isinstance(again[0], Ready)
    assert again[0].message["messageId"] == message["messageId"]


def test_event_rows_with_email_only_and_bad_json() -> None:
    columns = ["event", "email", "properties", "messageId"]
    out = events(
        columns,
        ["Opened", "Ana@Example.com", "", "m-1"],
        ["Opened", "ana@example.com", "{oops", "m-2"],
        ["Opened", "nope", "", "m-3"],
    )
    first = out[0]
    assert isinstance(first, Ready)
    assert first.message["messageId"] == "m-1"
    assert first.message["context"]["traits"] == {"email": "ana@example.com"}
    assert first.message["anonymousId"].startswith("lealta-email-")
    assert [(r.line, r.field) for r in out[1:] if isinstance(r, Rejection)] == [
        (3, "properties"), (4, "email"),
    ]  # fmt: skip
