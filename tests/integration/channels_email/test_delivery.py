"""Messages sent through a real SMTP server arrive whole, once, and parse back."""

from __future__ import annotations

import threading
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import compat32

from lealta.channels.email import EmailChannel, message_id

from .conftest import Mailroom, channel_for, delivery

UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://shop.example/l/u/tok3n>, <mailto:leave@shop.example>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def test_a_message_arrives_with_its_envelope_headers_and_both_parts(
    mailroom: Mailroom, smtp_port: int
) -> None:
    html = "<p>Grüße, Anna! Ihr Code: <b>SOMMER</b></p>\n.\n<p>— das Team</p>"
    text = "Grüße, Anna!\n.\nIhr Code: SOMMER\n"
    with channel_for(smtp_port) as channel:
        provider_id = channel.send(
            delivery(
                "order-7",
                outbox_id=7,
                subject="Anna, Ihr Gutschein über 20 € wartet 🎁",
                text=text,
                html=html,
                headers=UNSUBSCRIBE,
            )
        )
    [received] = mailroom.received
    assert received.mail_from == "news@shop.example"
    assert received.rcpt_tos == ["anna@example.com"]
    message = received.message
    assert message["Subject"] == "Anna, Ihr Gutschein über 20 € wartet 🎁"
    assert message["From"] == "Shop <news@shop.example>"
    assert message["To"] == "Anna <anna@example.com>"
    assert message["Reply-To"] == "care@shop.example"
    assert message["Message-ID"] == provider_id == message_id("order-7", "shop.example")
    assert message["Date"].datetime.tzinfo is not None
    assert message["X-Lealta-Message"] == "7"
    assert message["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "<welcome.shop.example>"
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content_type() == "text/html"
    assert rich.get_content().replace("\r\n", "\n") == html


def test_a_long_name_outside_ascii_is_encoded_in_the_to_header(
    mailroom: Mailroom, smtp_port: int
) -> None:
    name = "Zoë Ångström-Þórsdóttir de la Cruz y Nuñez Bartholomäus"
    with channel_for(smtp_port) as channel:
        channel.send(delivery(email="zoe@example.org", first_name=name))
    [received] = mailroom.received
    raw = BytesParser(policy=compat32).parsebytes(received.data)["To"]
    assert all(len(line) <= 76 for line in raw.split("\r\n"))
    assert str(make_header(decode_header(raw))) == f"{name} <zoe@example.org>"
    assert received.message["To"].addresses[0].addr_spec == "zoe@example.org"


def test_a_repeated_key_is_not_sent_again_and_keeps_its_message_id(
    mailroom: Mailroom, smtp_port: int
) -> None:
    with channel_for(smtp_port) as channel:
        first = channel.send(delivery("k1"))
        again = channel.send(delivery("k1", subject="Changed in between"))
        other = channel.send(delivery("k2"))
    assert first == again != other
    assert [r.message["Subject"] for r in mailroom.received] == ["Welcome", "Welcome"]


def test_only_the_most_recent_keys_are_remembered(mailroom: Mailroom, smtp_port: int) -> None:
    with channel_for(smtp_port, remember=2) as channel:
        for key in ("a", "b", "a", "c", "b", "a"):
            channel.send(delivery(key))
    # "a" was refreshed by its repeat, so "b" was the oldest when "c" came, and "a" after that
    assert len(mailroom.received) == 5


def test_a_message_resent_by_a_new_process_carries_the_same_message_id(
    mailroom: Mailroom, smtp_port: int
) -> None:
    for _ in range(2):  # two channel objects stand for a worker that died and its successor
        with channel_for(smtp_port) as channel:
            channel.send(delivery("after-crash"))
    ids = {r.message["Message-ID"] for r in mailroom.received}
    assert len(mailroom.received) == 2
    assert ids == {message_id("after-crash", "shop.example")}


def test_one_connection_carries_many_messages(mailroom: Mailroom, smtp_port: int) -> None:
    with channel_for(smtp_port) as channel:
        for number in range(20):
            channel.send(delivery(f"k{number}", outbox_id=number))
        assert channel.pool.opened == 1
    assert mailroom.count() == 20
    assert len({r.peer for r in mailroom.received}) == 1


def test_four_threads_share_the_pool(mailroom: Mailroom, smtp_port: int) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(thread: int, channel_: EmailChannel) -> None:
        try:
            for number in range(25):
                key = f"t{thread}-{number}"
                sent = channel_.send(delivery(key, email=f"p{thread}.{number}@example.com"))
                with lock:
                    ids.append(sent)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    with channel_for(smtp_port, pool_size=2) as channel:
        threads = [threading.Thread(target=work, args=(t, channel)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert channel.pool.opened <= 2
    assert errors == []
    assert len(set(ids)) == 100
    assert mailroom.count() == 100
    assert {r.rcpt_tos[0] for r in mailroom.received} == {
        f"p{t}.{n}@example.com" for t in range(4) for n in range(25)
    }
    assert {r.message["Message-ID"] for r in mailroom.received} == set(ids)
    assert len({r.peer for r in mailroom.received}) <= 2
