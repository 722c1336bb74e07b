"""STARTTLS, implicit TLS and login, against a server with a certificate from a test CA."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from lealta.errors import TransientChannelError

from .conftest import Mailroom, channel_for, delivery, smtp_server

LOGIN: dict[str, Any] = {"username": "shop", "password": "s3cret pass"}


def auth_options(mailroom: Mailroom, *, exclude: list[str]) -> dict[str, Any]:
    return {
        "authenticator": mailroom.authenticate,
        "auth_required": True,
        "auth_exclude_mechanism": exclude,
    }


@pytest.mark.parametrize(("mechanism", "excluded"), [("LOGIN", ["PLAIN"]), ("PLAIN", ["LOGIN"])])
def test_starttls_then_login(
    mechanism: str, excluded: list[str], server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    mailroom = Mailroom()
    options = auth_options(mailroom, exclude=excluded)
    with (
        smtp_server(mailroom, tls_context=server_tls, require_starttls=True, **options) as port,
        channel_for(port, security="starttls", ca_file=ca_file, **LOGIN) as channel,
    ):
        channel.send(delivery("k1"))
        channel.send(delivery("k2"))
    assert mailroom.logins == [(mechanism, "shop")]
    assert mailroom.count() == 2


def test_implicit_tls_with_login(server_tls: ssl.SSLContext, ca_file: Path) -> None:
    mailroom = Mailroom()
    # aiosmtpd only counts STARTTLS as "TLS" for AUTH, so it is offered here without that check.
    options: dict[str, Any] = {"authenticator": mailroom.authenticate, "auth_require_tls": False}
    with (
        smtp_server(mailroom, ssl_context=server_tls, **options) as port,
        channel_for(port, security="tls", ca_file=ca_file, **LOGIN) as channel,
    ):
        channel.send(delivery("k1", subject="Über TLS"))
    [received] = mailroom.received
    assert received.message["Subject"] == "Über TLS"
    assert [user for _, user in mailroom.logins] == ["shop"]


def test_a_certificate_the_client_does_not_trust_is_a_transient_failure(
    server_tls: ssl.SSLContext,
) -> None:
    mailroom = Mailroom()
    with (
        smtp_server(mailroom, ssl_context=server_tls) as port,
        channel_for(port, security="tls") as channel,  # the system store lacks the test CA
        pytest.raises(TransientChannelError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        channel.send(delivery("k1"))
    assert mailroom.count() == 0


def test_a_wrong_password_is_a_transient_failure_naming_the_login(
    server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    mailroom = Mailroom()
    with (
        smtp_server(mailroom, tls_context=server_tls, **auth_options(mailroom, exclude=[])) as port,
        channel_for(
            port, security="starttls", ca_file=ca_file, username="shop", password="wrong"
        ) as channel,
        pytest.raises(TransientChannelError, match=r"\(login\): 535"),
    ):
        channel.send(delivery("k1"))
    assert mailroom.count() == 0


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it() -> None:
    mailroom = Mailroom()
    with (
        smtp_server(mailroom) as port,
        channel_for(port, security="starttls") as channel,
        pytest.raises(TransientChannelError, match="STARTTLS"),
    ):
        channel.send(delivery("k1"))
    assert mailroom.count() == 0
