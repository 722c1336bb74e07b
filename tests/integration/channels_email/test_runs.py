"""A run of messages sent at once (``EmailChannel.send_many``): each message's text goes out
with the next one's envelope when the server offers PIPELINING; every outcome is the one
``send`` gives, and no message whose text reached the server is sent again."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from lealta.channels.email import COMPOSED, compose_ahead, mailbox, message_id
from lealta.errors import PermanentChannelError, TransientChannelError

from .conftest import Mailroom, channel_for, delivery


def test_a_run_arrives_whole_in_order_over_one_session(mailroom: Mailroom, smtp_port: int) -> None:
    run = [delivery(f"k{n}", outbox_id=n, email=f"p{n}@example.com") for n in range(12)]
    with channel_for(smtp_port) as channel:
        results = channel.send_many(run)
        assert channel.pool.opened == 1
    assert results == [message_id(f"k{n}", "shop.example") for n in range(12)]
    assert [r.rcpt_tos for r in mailroom.received] == [[f"p{n}@example.com"] for n in range(12)]
    assert len({r.peer for r in mailroom.received}) == 1
    assert [r.message["X-Lealta-Message"] for r in mailroom.received] == [str(n) for n in range(12)]


def test_refusals_in_a_run_fail_their_own_message_and_the_rest_arrive(
    mailroom: Mailroom, smtp_port: int
) -> None:
    mailroom.refuse_recipients["ghost@example.com"] = "550 5.1.1 <ghost@example.com>: user unknown"
    mailroom.refuse_recipients["grey@example.com"] = "451 4.7.1 Greylisted, try again later"
    mailroom.refuse_data["spam@example.com"] = "554 5.7.1 Message rejected as spam"
    emails = ["a@example.com", "ghost@example.com", "b@example.com", "spam@example.com"]
    emails += ["grey@example.com", "c@example.com"]
    run = [delivery(f"k{n}", outbox_id=n, email=email) for n, email in enumerate(emails)]
    run.append(delivery("k9", email=None))
    with channel_for(smtp_port) as channel:
        results = channel.send_many(run)
        assert channel.pool.opened == 1
        # failed keys are not remembered as sent: they go out when tried again
        del mailroom.refuse_recipients["grey@example.com"]
        assert channel.send_many([run[4]]) == [message_id("k4", "shop.example")]
    sent, ghost, sent_b, spam, grey, sent_c, nobody = results
    assert isinstance(ghost, PermanentChannelError)
    assert "550 5.1.1" in str(ghost)
    assert isinstance(spam, PermanentChannelError)
    assert "message: 554 5.7.1" in str(spam)
    assert isinstance(grey, TransientChannelError)
    assert "451 4.7.1" in str(grey)
    assert isinstance(nobody, PermanentChannelError)
    assert "no e-mail address" in str(nobody)
    assert [sent, sent_b, sent_c] == [message_id(f"k{n}", "shop.example") for n in (0, 2, 5)]
    arrived = [r.rcpt_tos[0] for r in mailroom.received]
    assert arrived == ["a@example.com", "b@example.com", "c@example.com", "grey@example.com"]


def test_keys_sent_before_or_twice_in_a_run_go_out_once(mailroom: Mailroom, smtp_port: int) -> None:
    with channel_for(smtp_port) as channel:
        first = channel.send(delivery("k1"))
        results = channel.send_many([delivery("k1"), delivery("k2"), delivery("k2")])
    assert results == [first, message_id("k2", "shop.example"), message_id("k2", "shop.example")]
    assert mailroom.count() == 2


def test_a_server_closing_with_421_gets_the_rest_of_the_run_on_a_fresh_session(
    mailroom: Mailroom, smtp_port: int
) -> None:
    with channel_for(smtp_port) as channel:
        channel.send(delivery("k0", outbox_id=0))
        mailroom.close_mail_once = "421 4.7.0 Too many messages, closing connection"
        run = [delivery(f"k{n}", outbox_id=n) for n in range(1, 6)]
        results = channel.send_many(run)
        assert channel.pool.opened == 2
    assert results == [message_id(f"k{n}", "shop.example") for n in range(1, 6)]
    assert [r.message["X-Lealta-Message"] for r in mailroom.received] == [str(n) for n in range(6)]


def test_421_on_a_brand_new_session_fails_what_it_carried_without_sending_it(
    mailroom: Mailroom, smtp_port: int
) -> None:
    mailroom.close_mail_once = "421 4.3.2 Service shutting down"
    with channel_for(smtp_port) as channel:
        results = channel.send_many([delivery("k1", outbox_id=1), delivery("k2", outbox_id=2)])
    first, second = results
    assert isinstance(first, TransientChannelError)
    assert "421" in str(first)
    if mailroom.pipelining:  # the second's envelope was in the session the server closed
        assert isinstance(second, TransientChannelError)
        assert "421" in str(second)
        assert mailroom.count() == 0
    else:  # one message at a time, as send: the second goes on a session of its own
        assert second == message_id("k2", "shop.example")
        assert [r.message["X-Lealta-Message"] for r in mailroom.received] == ["2"]


# -- a server that drops the connection once a message's text has arrived ------------------


@contextmanager
def dropping_server() -> Iterator[tuple[int, list[bytes]]]:
    """A pipelining SMTP server that takes envelopes and, on each connection, closes it
    without a reply once the first message's text has arrived; yields its port and every
    message text it saw."""
    texts: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def session(connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as reader:
            connection.sendall(b"220 drop.test ESMTP\r\n")
            in_data, text = False, b""
            for line in reader:
                if in_data:
                    if line == b".\r\n":
                        texts.append(text)
                        return  # dropped: the client cannot know whether it was taken
                    text += line
                elif line.upper().startswith(b"EHLO"):
                    connection.sendall(b"250-drop.test\r\n250 PIPELINING\r\n")
                elif line.upper().startswith(b"DATA"):
                    connection.sendall(b"354 go ahead\r\n")
                    in_data = True
                else:
                    connection.sendall(b"250 OK\r\n")

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=session, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield port, texts
    finally:
        listener.close()


def test_a_message_whose_text_reached_a_dropped_session_is_reported_not_sent_again() -> None:
    with dropping_server() as (port, texts), channel_for(port) as channel:
        run = [delivery(f"k{n}", outbox_id=n) for n in (1, 2)]
        first, second = channel.send_many(run)
    assert isinstance(first, TransientChannelError)
    assert "during message" in str(first)
    assert isinstance(second, TransientChannelError)
    # message 1's text went out once and never again; message 2's envelope was on the wire
    # with it, but not its text
    assert len(texts) == 1
    assert b"X-Lealta-Message: 1" in texts[0]


def test_lines_starting_with_a_dot_arrive_as_written(mailroom: Mailroom, smtp_port: int) -> None:
    text = ".hidden config\nplain line\n..two dots\n"
    with channel_for(smtp_port) as channel:
        channel.send(delivery("k1", outbox_id=1, text=text))
        channel.send_many([delivery("k2", outbox_id=2, text=text), delivery("k3", outbox_id=3)])
    bodies = [r.message.get_body(("plain",)) for r in mailroom.received]
    texts = [body.get_content().replace("\r\n", "\n") if body else None for body in bodies]
    assert texts == [text, text, "Hello Anna"]


def test_an_email_built_ahead_for_this_sender_goes_out_as_built(
    mailroom: Mailroom, smtp_port: int
) -> None:
    """A rendering process builds the e-mail with its content (compose_ahead); the channel
    sends those bytes, and builds its own when they were made for another sender."""
    ours = (mailbox("Shop <news@shop.example>"), mailbox("care@shop.example"))
    theirs = (mailbox("Other <hi@other.example>"), None)
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # not the channel's clock: shows whose
    run = []
    for n, (sender, reply_to) in enumerate((ours, theirs)):
        plain = delivery(f"k{n}", outbox_id=n, email=f"p{n}@example.com")
        built = compose_ahead(plain, sender, reply_to, at)
        assert built is not None
        run.append(replace(plain, content={**plain.content, COMPOSED: built}))
    with channel_for(smtp_port) as channel:
        channel.send_many(run[:1])
        channel.send(run[1])
    ahead, own = mailroom.received
    assert ahead.data.replace(b"\r\n", b"\n") == run[0].content[COMPOSED].composed.data.replace(
        b"\r\n", b"\n"
    )
    assert ahead.message["Date"] == "Mon, 02 Mar 2026 10:00:00 +0000"
    assert own.message["From"] == "Shop <news@shop.example>"
    assert own.message["Date"] != "Mon, 02 Mar 2026 10:00:00 +0000"


def test_an_email_that_cannot_be_built_ahead_is_left_to_the_channel() -> None:
    sender = mailbox("Shop <news@shop.example>")
    assert compose_ahead(delivery(subject=""), sender, None, dt.datetime.now(dt.UTC)) is None
