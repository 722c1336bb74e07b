"""SMTP replies and broken connections become the right channel errors; the pool recovers."""

from __future__ import annotations

import time

import pytest

from lealta.errors import PermanentChannelError, TransientChannelError

from .conftest import Mailroom, channel_for, delivery, free_port, smtp_server


def test_an_unknown_user_is_a_permanent_failure_with_the_servers_reply(
    mailroom: Mailroom, smtp_port: int
) -> None:
    mailroom.refuse_recipients["ghost@example.com"] = "550 5.1.1 <ghost@example.com>: user unknown"
    with channel_for(smtp_port) as channel:
        with pytest.raises(PermanentChannelError, match=r"recipient: 550 5\.1\.1 .*user unknown"):
            channel.send(delivery("k1", email="ghost@example.com"))
        channel.send(delivery("k2"))  # the same session goes on after RSET
        assert channel.pool.opened == 1
    assert [r.rcpt_tos for r in mailroom.received] == [["anna@example.com"]]


def test_a_greylisted_recipient_is_a_transient_failure(mailroom: Mailroom, smtp_port: int) -> None:
    mailroom.refuse_recipients["anna@example.com"] = "451 4.7.1 Greylisted, try again later"
    with channel_for(smtp_port) as channel:
        with pytest.raises(TransientChannelError, match=r"451 4\.7\.1 Greylisted"):
            channel.send(delivery("k1"))
        del mailroom.refuse_recipients["anna@example.com"]
        assert channel.send(delivery("k1"))  # a failed key is not remembered as sent
    assert mailroom.count() == 1


def test_a_message_rejected_after_data_is_permanent(mailroom: Mailroom, smtp_port: int) -> None:
    mailroom.refuse_data["anna@example.com"] = "554 5.7.1 Message rejected as spam"
    with channel_for(smtp_port) as channel:
        with pytest.raises(PermanentChannelError, match=r"message: 554 5\.7\.1 Message rejected"):
            channel.send(delivery("k1"))
        channel.send(delivery("k2", email="ben@example.com"))
    assert [r.rcpt_tos for r in mailroom.received] == [["ben@example.com"]]


def test_a_message_deferred_after_data_is_transient(mailroom: Mailroom, smtp_port: int) -> None:
    mailroom.refuse_data["anna@example.com"] = "452 4.3.1 Insufficient system storage"
    with channel_for(smtp_port) as channel, pytest.raises(TransientChannelError, match="452"):
        channel.send(delivery("k1"))


def test_a_contact_without_an_address_fails_permanently_without_a_connection(
    mailroom: Mailroom, smtp_port: int
) -> None:
    with channel_for(smtp_port) as channel:
        with pytest.raises(PermanentChannelError, match="no e-mail address"):
            channel.send(delivery("k1", email=None))
        assert channel.pool.opened == 0


def test_a_server_that_is_down_is_a_transient_failure() -> None:
    with (
        channel_for(free_port()) as channel,
        pytest.raises(TransientChannelError, match="could not open an SMTP session"),
    ):
        channel.send(delivery("k1"))


def test_the_pool_recovers_when_the_server_restarts(mailroom: Mailroom) -> None:
    port = free_port()
    with channel_for(port) as channel:
        with smtp_server(mailroom, port):
            channel.send(delivery("k1"))
        with pytest.raises(TransientChannelError):
            channel.send(delivery("k2"))
        with smtp_server(mailroom, port):
            channel.send(delivery("k2"))
    assert [r.message["X-Lealta-Message"] for r in mailroom.received] == ["1", "1"]
    assert len(mailroom.received) == 2


def test_a_session_the_server_closed_while_idle_is_replaced(mailroom: Mailroom) -> None:
    with smtp_server(mailroom, timeout=0.3) as port, channel_for(port) as channel:
        channel.send(delivery("k1"))
        time.sleep(0.6)  # the server drops the idle session
        channel.send(delivery("k2"))  # no probe (idle < 10 s): the retry opens a new session
        assert channel.pool.opened == 2
    assert mailroom.noops == 0
    assert mailroom.count() == 2
    assert len({r.peer for r in mailroom.received}) == 2


def test_a_long_idle_session_is_probed_with_noop_before_use(mailroom: Mailroom) -> None:
    with smtp_server(mailroom, timeout=1.0) as port, channel_for(port, probe_after=0.2) as channel:
        channel.send(delivery("k1"))
        time.sleep(1.3)  # closed by the server: the probe fails, a new session is opened
        channel.send(delivery("k2"))
        time.sleep(0.3)  # idle, but still open: the probe passes and the session is kept
        channel.send(delivery("k3"))
        assert channel.pool.opened == 2
    assert mailroom.noops == 1
    assert mailroom.count() == 3


def test_a_server_closing_with_421_gets_the_message_on_a_fresh_session(
    mailroom: Mailroom, smtp_port: int
) -> None:
    with channel_for(smtp_port) as channel:
        channel.send(delivery("k1"))
        mailroom.close_mail_once = "421 4.7.0 Too many messages, closing connection"
        channel.send(delivery("k2"))
        assert channel.pool.opened == 2
    assert mailroom.count() == 2


def test_421_on_a_brand_new_session_is_reported_not_retried(
    mailroom: Mailroom, smtp_port: int
) -> None:
    mailroom.close_mail_once = "421 4.3.2 Service shutting down"
    with channel_for(smtp_port) as channel, pytest.raises(TransientChannelError, match="421"):
        channel.send(delivery("k1"))
    assert mailroom.count() == 0


def test_a_closed_channel_refuses_to_send(mailroom: Mailroom, smtp_port: int) -> None:
    channel = channel_for(smtp_port)
    channel.send(delivery("k1"))
    channel.close()
    assert channel.pool.idle == 0
    with pytest.raises(TransientChannelError, match="closed"):
        channel.send(delivery("k2"))
