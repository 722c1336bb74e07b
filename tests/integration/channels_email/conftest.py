"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

The server can be told to refuse recipients, refuse messages, close sessions, require
STARTTLS, implicit TLS or a login; each test reads back what arrived and parses it.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from lealta.channels.base import Delivery
from lealta.channels.email import EmailChannel
from lealta.channels.smtp_pool import SmtpServer


@dataclass(frozen=True)
class Received:
    """One message as the server took it."""

    peer: tuple[str, int]
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailroom:
    """The aiosmtpd handler: stores envelopes, and misbehaves on request."""

    pipelining: bool = False
    received: list[Received] = field(default_factory=list)
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    refuse_data: dict[str, str] = field(default_factory=dict)
    close_mail_once: str = ""  # a reply to the next MAIL FROM, e.g. "421 …"
    logins: list[tuple[str, str]] = field(default_factory=list)
    noops: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_NOOP(
        self, server: SMTP, session: Session, envelope: Envelope, arg: str
    ) -> str:
        self.noops += 1
        return "250 OK"

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        with self.lock:
            reply, self.close_mail_once = self.close_mail_once, ""
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            if address in self.refuse_data:
                return self.refuse_data[address]
        data = envelope.original_content or b""
        assert envelope.mail_from is not None
        with self.lock:
            self.received.append(
                Received(_peer(session), envelope.mail_from, list(envelope.rcpt_tos), data)
            )
        return "250 2.0.0 Accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        self.logins.append((mechanism, user))
        success = (user, password) == ("shop", "s3cret pass")
        return AuthResult(success=success, handled=False)


def _peer(session: Session) -> tuple[str, int]:
    peer = session.peer
    assert isinstance(peer, tuple)
    return str(peer[0]), int(peer[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Mailroom, port: int | None = None, **options: Any) -> Iterator[int]:
    """aiosmtpd serving ``handler`` on 127.0.0.1 for the block; yields the port."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def delivery(
    key: str = "k1",
    *,
    email: str | None = "anna@example.com",
    outbox_id: int = 1,
    template: str = "welcome",
    first_name: str = "Anna",
    **content: Any,
) -> Delivery:
    """A delivery with rendered content (a subject and both parts unless overridden)."""
    parts: dict[str, Any] = {
        "subject": "Welcome",
        "text": "Hello Anna",
        "html": "<p>Hello Anna</p>",
    }
    parts.update(content)
    recipient = {"email": email, "first_name": first_name} if email else {}
    return Delivery(
        outbox_id=outbox_id,
        idempotency_key=key,
        contact_id="c1",
        channel="email",
        template=template,
        recipient=recipient,
        content=parts,
    )


def channel_for(port: int, *, pool_size: int = 2, **server: Any) -> EmailChannel:
    """A channel sending to 127.0.0.1:``port`` as ``Shop <news@shop.example>``."""
    options: dict[str, Any] = {"timeout": 5.0, "local_hostname": "lealta.test"}
    options.update(server)
    ca_file = options.pop("ca_file", None)
    probe_after = options.pop("probe_after", 10.0)
    remember = options.pop("remember", 100_000)
    return EmailChannel(
        SmtpServer(host="127.0.0.1", port=port, **options),
        sender="Shop <news@shop.example>",
        reply_to="care@shop.example",
        pool_size=pool_size,
        ca_file=ca_file,
        probe_after=probe_after,
        remember=remember,
    )


@pytest.fixture(params=[False, True], ids=["one-command-at-a-time", "pipelining"])
def mailroom(request: pytest.FixtureRequest) -> Mailroom:
    """A handler; the server advertises PIPELINING in one variant."""
    return Mailroom(pipelining=request.param)


@pytest.fixture
def smtp_port(mailroom: Mailroom) -> Iterator[int]:
    """A plain-text SMTP server taking mail for ``mailroom``."""
    with smtp_server(mailroom) as port:
        yield port


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(certificate_authority: trustme.CA, tmp_path: Path) -> Path:
    """The throwaway CA's certificate, for the client to trust."""
    path = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def server_tls(certificate_authority: trustme.CA) -> ssl.SSLContext:
    """The server's TLS context, with a certificate for 127.0.0.1 signed by the CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context
