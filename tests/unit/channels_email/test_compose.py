"""The e-mail is built by hand; these tests parse it back with the standard library."""

from __future__ import annotations

import datetime as dt
import re
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.channels.base import Delivery
from lealta.channels.email import EmailChannel, compose, mailbox, message_id
from lealta.channels.smtp_pool import SmtpServer
from lealta.config import Settings
from lealta.errors import InvalidInput, PermanentChannelError

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)
SENDER = mailbox("Shop <news@shop.example>")
unicode_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)


def delivery(
    key: str = "k1",
    *,
    recipient: dict[str, Any] | None = None,
    template: str = "Weekly News",
    content: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    **parts: Any,
) -> Delivery:
    body = {"subject": "Hello", "text": "Hi Anna", "html": "<p>Hi Anna</p>", **parts}
    return Delivery(
        outbox_id=9,
        idempotency_key=key,
        contact_id="c1",
        channel="email",
        template=template,
        recipient=recipient if recipient is not None else {"email": "anna@example.com"},
        content=content if content is not None else body,
        payload=payload or {},
    )


def build(item: Delivery, **options: Any) -> tuple[bytes, EmailMessage]:
    data = compose(item, sender=options.pop("sender", SENDER), now=NOW, **options).data
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(parsed, EmailMessage)
    return data, parsed


def header_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def expected_line(text: str) -> str:
    """What a header keeps of ``text``: one line, single spaces, no controls."""
    text = "".join(
        " " if c < " " or "\x7f" <= c < "\xa0" or c in "\u2028\u2029" else c for c in text
    )
    return re.sub(" {2,}", " ", text).strip(" ")


def test_the_message_id_is_derived_from_the_key_and_the_senders_domain() -> None:
    first = compose(delivery("k1"), sender=SENDER, now=NOW)
    later = compose(delivery("k1"), sender=SENDER, now=NOW + dt.timedelta(hours=1))
    other = compose(delivery("k2"), sender=SENDER, now=NOW)
    assert first.message_id == later.message_id == message_id("k1", "shop.example")
    assert re.fullmatch(r"<[0-9a-f]{32}@shop\.example>", first.message_id)
    assert other.message_id != first.message_id


def test_headers_of_a_marketing_message() -> None:
    _, message = build(
        delivery(
            headers={
                "List-Unsubscribe": "<https://shop.example/l/u/t>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Campaign": "summer",
            }
        ),
        reply_to=mailbox("care@shop.example"),
    )
    assert message["From"] == "Shop <news@shop.example>"
    assert message["Reply-To"] == "care@shop.example"
    assert message["Date"].datetime == NOW
    assert message["List-Id"] == "<weekly-news.shop.example>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Campaign"] == "summer"
    assert message["X-Lealta-Message"] == "9"
    assert message["MIME-Version"] == "1.0"


def test_a_transactional_message_has_no_list_headers() -> None:
    _, message = build(delivery())
    assert message["List-Id"] is None
    assert message["List-Unsubscribe"] is None
    assert message["Reply-To"] is None


def test_the_template_may_name_its_own_list_and_sender() -> None:
    headers = {
        "List-Unsubscribe": "<https://shop.example/l/u/t>",
        "List-Id": "Deals <deals.shop.example>",
        "From": "Anna von Shop <anna@shop.example>",
        "Reply-To": "Anna <anna@shop.example>",
    }
    _, message = build(delivery(headers=headers), reply_to=mailbox("care@shop.example"))
    assert message["List-Id"] == "Deals <deals.shop.example>"
    assert message["From"] == "Anna von Shop <anna@shop.example>"
    assert message["Reply-To"] == "Anna <anna@shop.example>"
    assert compose(delivery(headers=headers), sender=SENDER, now=NOW).message_id.endswith(
        "@shop.example>"
    )


@pytest.mark.parametrize("name", ["Subject", "to", "Bcc", "Message-ID", "Content-Type", "Bad Name"])
def test_the_template_may_not_set_the_channels_own_headers(name: str) -> None:
    with pytest.raises(PermanentChannelError, match="may not set the header"):
        compose(delivery(headers={name: "x"}), sender=SENDER, now=NOW)


def test_a_subject_cannot_smuggle_in_another_header() -> None:
    data, message = build(delivery(subject="Hi\r\nBcc: victim@example.org\r\n\r\nbody"))
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: victim@example.org body"
    assert not any(line.startswith(b"Bcc") for line in header_lines(data))


def test_a_name_cannot_smuggle_in_another_header() -> None:
    _, message = build(
        delivery(recipient={"email": "a@example.com", "first_name": 'Eve"\r\nBcc: x@y.z'})
    )
    assert message["Bcc"] is None
    assert message["To"].addresses[0].display_name == 'Eve" Bcc: x@y.z'
    assert message["To"].addresses[0].addr_spec == "a@example.com"


def test_the_recipients_names_and_an_international_domain() -> None:
    recipient = {"email": "jurgen@bücher.example", "first_name": "Jürgen", "last_name": "Groß"}
    _, message = build(delivery(recipient=recipient))
    [address] = message["To"].addresses
    assert address.display_name == "Jürgen Groß"
    assert address.addr_spec == "jurgen@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("recipient", "reason"),
    [
        ({}, "no e-mail address"),
        ({"email": "  "}, "no e-mail address"),
        ({"email": "not-an-address"}, "not an e-mail address"),
        ({"email": "a@b@c"}, "not an e-mail address"),
        ({"email": "ünïcode@example.com"}, "SMTPUTF8"),
    ],
)
def test_unusable_addresses_fail_permanently(recipient: dict[str, Any], reason: str) -> None:
    with pytest.raises(PermanentChannelError, match=reason):
        compose(delivery(recipient=recipient), sender=SENDER, now=NOW)


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ({"subject": ""}, "no subject"),
        ({"subject": " \n "}, "no subject"),
        ({"text": "", "html": ""}, "neither a text nor an HTML part"),
    ],
)
def test_incomplete_content_fails_permanently(parts: dict[str, Any], reason: str) -> None:
    with pytest.raises(PermanentChannelError, match=reason):
        compose(delivery(**parts), sender=SENDER, now=NOW)


def test_both_parts_are_alternatives_in_utf8() -> None:
    text = "Grüße\r\n.\rzweite Zeile \nEnde mit Leerzeichen   \n" + "x" * 300
    html = "<p>Grüße & =?utf-8?q?nichts?= --=_lealta_ vorbei</p>"
    data, message = build(delivery(text=text, html=html))
    plain, rich = message.iter_parts()
    assert message.get_content_type() == "multipart/alternative"
    assert plain.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n").replace(
        "\r", "\n"
    )
    assert rich.get_content().replace("\r\n", "\n") == html
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))


@pytest.mark.parametrize(("present", "kind"), [("text", "text/plain"), ("html", "text/html")])
def test_a_single_part_is_sent_on_its_own(present: str, kind: str) -> None:
    parts: dict[str, Any] = {"text": "", "html": ""}
    parts[present] = "Nur ein Teil"
    data, message = build(delivery(**parts))
    assert message.get_content_type() == kind
    assert message.get_content().rstrip("\r\n") == "Nur ein Teil"
    assert data.endswith(b"\r\n")


def test_without_rendered_content_the_payload_is_sent() -> None:
    payload = {"subject": "From the payload", "text": "plain body"}
    _, message = build(delivery(content={}, payload=payload))
    assert message["Subject"] == "From the payload"
    assert message.get_content().rstrip("\r\n") == "plain body"


@given(subject=unicode_text)
def test_any_subject_survives_the_round_trip(subject: str) -> None:
    if not expected_line(subject):
        return
    data, message = build(delivery(subject=subject))
    assert message["Subject"] == expected_line(subject)
    assert not re.search(rb"[^\r]\n|\r[^\n]", data)
    for line in header_lines(data):
        assert len(line) <= (76 if b"=?utf-8?" in line else 78)


@given(name=st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_any_display_name_survives_the_round_trip(name: str) -> None:
    data, _ = build(delivery(recipient={"email": "p@example.com", "first_name": name}))
    raw = next(
        line
        for line in data.split(b"\r\n\r\n")[0].replace(b"\r\n ", b" ").split(b"\r\n")
        if line.startswith(b"To: ")
    )[4:].decode("ascii")
    decoded = str(make_header(decode_header(raw)))
    expected = expected_line(name)
    if not expected:
        assert decoded == "p@example.com"
    elif expected.isascii():
        assert parseaddr(decoded) == (expected, "p@example.com")
    else:
        assert decoded == f"{expected} <p@example.com>"


def test_a_sender_that_is_no_address_is_refused_naming_the_setting() -> None:
    with pytest.raises(InvalidInput) as caught:
        EmailChannel(SmtpServer(), sender="Shop")
    assert caught.value.field == "email_from"
    with pytest.raises(InvalidInput) as caught:
        EmailChannel(SmtpServer(), reply_to="nobody at all")
    assert caught.value.field == "email_reply_to"


def test_the_channel_is_built_from_settings_without_connecting() -> None:
    settings = Settings(
        smtp_host="mail.example.net",
        smtp_port=587,
        smtp_security="starttls",
        smtp_username="apikey",
        smtp_password="secret",
        smtp_pool_size=4,
        email_from="Shop <news@shop.example>",
        email_reply_to="care@shop.example",
    )
    with EmailChannel.from_settings(settings) as channel:
        assert channel.name == "email"
        assert channel.pool.server.host == "mail.example.net"
        assert channel.pool.server.security == "starttls"
        assert channel.pool.size == 4
        assert channel.pool.opened == 0
        assert channel.sender.address == "news@shop.example"
        assert channel.reply_to is not None
        assert channel.reply_to.address == "care@shop.example"


@pytest.mark.parametrize(
    "moment",
    [
        NOW.replace(microsecond=999_999),
        dt.datetime(2025, 6, 2, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # NOW
        dt.datetime(2025, 6, 2, 10, 0, 0, 5),  # no zone
        dt.datetime(2025, 10, 26, 2, 30, tzinfo=ZoneInfo("Europe/Rome")),
        dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Rome")),
    ],
)
def test_the_date_header_is_the_moment_in_its_own_zone(moment: dt.datetime) -> None:
    first = compose(delivery(), sender=SENDER, now=NOW)  # an equal moment, remembered first
    header = _header_of(compose(delivery(), sender=SENDER, now=moment).data, "Date")
    assert header == format_datetime(moment)
    assert _header_of(first.data, "Date") == "Mon, 02 Jun 2025 10:00:00 +0000"


def _header_of(data: bytes, name: str) -> str:
    found = re.search(rb"^" + name.encode() + rb": (.*)\r$", data, re.MULTILINE)
    assert found is not None
    return found.group(1).decode()
