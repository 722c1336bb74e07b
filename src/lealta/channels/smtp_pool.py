"""A thread-safe pool of SMTP connections, reused across sends.

Opening an SMTP session costs a TCP (and often a TLS) handshake, EHLO and AUTH: far more than
one message. The pool keeps up to ``size`` sessions open and hands each to one thread at a
time. A session idle for longer than ``probe_after`` seconds is checked with ``NOOP`` before
use; one that turns out dead when the transaction starts (the server timed it out, or said
``421`` on its way out) is replaced and the message tried once more on a fresh session. That
retry is safe because nothing of the message had been sent; once the message text is on the
wire a failure is reported instead, since the server may have taken it.

When the server offers ``PIPELINING`` (RFC 2920) the envelope (``MAIL``, ``RCPT``, ``DATA``)
goes out in one write, which saves two round trips per message.

Failures come out as channel errors: a ``4xx`` reply, a refused or dropped connection, a timeout,
a TLS or login failure are :class:`TransientChannelError`; a ``5xx`` reply to the message's own
transaction (unknown user, rejected content) is :class:`PermanentChannelError` carrying the
server's reply. Problems with the session itself (TLS, login) are transient even when the
server answers ``5xx``: they are about the relay's set-up, not about the message.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from lealta.errors import PermanentChannelError, TransientChannelError

Security = Literal["none", "starttls", "tls"]

_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to reach the SMTP relay.

    ``security`` is ``none`` (plain text), ``starttls`` (upgrade after connecting, usually port
    587) or ``tls`` (implicit TLS, usually port 465). Login happens only when ``username`` is
    set. ``timeout`` bounds every network operation, in seconds.
    """

    host: str = "127.0.0.1"
    port: int = 25
    security: Security = "none"
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    local_hostname: str = ""

    def describe(self) -> str:
        """``host:port`` for error messages (never the credentials)."""
        return f"{self.host}:{self.port}"


class _Refused(Exception):
    """The server answered a command with something other than success."""

    def __init__(self, stage: str, code: int, reply: bytes) -> None:
        super().__init__(stage, code, reply)
        self.stage = stage
        self.code = code
        self.reply = reply.decode("utf-8", "replace").replace("\n", " ")

    @property
    def before_message(self) -> bool:
        return self.stage != "message"


class _Broken(Exception):
    """The session failed (I/O error, disconnect) at ``stage``."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(stage, error)
        self.stage = stage
        self.error = error

    @property
    def before_message(self) -> bool:
        return self.stage != "message"


class _Session:
    """One open SMTP session and when it was last used."""

    def __init__(self, smtp: smtplib.SMTP, now: float) -> None:
        self.smtp = smtp
        self.last_used = now
        self.used = 0  # transactions started on this session
        self.pipelining = smtp.has_extn("pipelining")


class SmtpPool:
    """Up to ``size`` open SMTP sessions, shared by threads; close with :meth:`close`.

    ``ssl_context`` verifies the server for ``starttls``/``tls`` (default: the system's trust
    store through :func:`ssl.create_default_context`). ``monotonic`` is the clock used for the
    idle check.
    """

    def __init__(
        self,
        server: SmtpServer,
        *,
        size: int = 2,
        ssl_context: ssl.SSLContext | None = None,
        probe_after: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1:
            raise ValueError("an SMTP pool needs at least one connection")
        self.server = server
        self.size = size
        self.probe_after = probe_after
        self.opened = 0
        self._context = ssl_context
        self._monotonic = monotonic
        self._local_hostname = server.local_hostname
        self._idle: list[_Session] = []
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()

    def send(
        self, sender: str, recipient: str, message: bytes, *, options: Sequence[str] = ()
    ) -> None:
        """Hand ``message`` (CRLF lines, ending in CRLF) to the relay for ``recipient``.

        ``sender`` and ``recipient`` are bare ASCII addresses; ``options`` are ``MAIL FROM``
        parameters such as ``BODY=8BITMIME``. Raises a channel error when the relay did not
        take the message.
        """
        envelope = _envelope(sender, recipient, options)
        payload = _LEADING_DOT.sub(b"..", message) + b".\r\n"
        for attempt in (1, 2):
            session = self._acquire(probe=attempt > 1)
            reused = session.used > 0
            session.used += 1
            try:
                _transact(session, envelope, payload)
            except _Refused as refused:
                self._settle(session, refused)
                if refused.code == 421 and refused.before_message and reused and attempt == 1:
                    continue
                raise _channel_error(refused, self.server) from None
            except _Broken as broken:
                self._discard(session)
                if broken.before_message and reused and attempt == 1:
                    continue
                raise TransientChannelError(
                    f"SMTP connection to {self.server.describe()} failed during "
                    f"{broken.stage}: {_describe(broken.error)}"
                ) from broken.error
            except BaseException:  # interrupted mid-transaction: the session's state is unknown
                self._discard(session)
                raise
            self._release(session)
            return
        raise AssertionError("unreachable: the second attempt always returns or raises")

    def close(self) -> None:
        """Say ``QUIT`` to every idle session; sessions in use close when handed back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for session in idle:
            _quit(session.smtp)

    def __enter__(self) -> SmtpPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def idle(self) -> int:
        """How many open sessions wait for a sender."""
        with self._cond:
            return len(self._idle)

    def _acquire(self, *, probe: bool) -> _Session:
        """An open session: an idle one (checked if idle for long) or a new one."""
        while True:
            session = self._take()
            if session is None:
                return self._open_in_slot()
            idle_for = self._monotonic() - session.last_used
            if not probe and idle_for < self.probe_after:
                return session
            if _alive(session.smtp):
                return session
            self._discard(session)

    def _take(self) -> _Session | None:
        """An idle session, or ``None`` after reserving a slot for a new one."""
        deadline = self._monotonic() + self.server.timeout
        with self._cond:
            while True:
                if self._closed:
                    raise TransientChannelError("the SMTP connection pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._open < self.size:
                    self._open += 1
                    return None
                left = deadline - self._monotonic()
                if left <= 0 or not self._cond.wait(left):
                    raise TransientChannelError(
                        f"no SMTP connection to {self.server.describe()} came free "
                        f"within {self.server.timeout:g} s"
                    )

    def _open_in_slot(self) -> _Session:
        """Connect in a slot :meth:`_take` reserved; the slot is given back on failure."""
        try:
            smtp = self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise
        with self._cond:
            self.opened += 1
        return _Session(smtp, self._monotonic())

    def _connect(self) -> smtplib.SMTP:
        """A new session: connected, secured, greeted and logged in as configured."""
        server = self.server
        if not self._local_hostname:
            # smtplib would look the name up again for every connection; once is enough.
            self._local_hostname = socket.getfqdn()
        stage = "connect"
        smtp: smtplib.SMTP | None = None
        try:
            if server.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    server.host,
                    server.port,
                    local_hostname=self._local_hostname,
                    timeout=server.timeout,
                    context=self._ssl_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    server.host,
                    server.port,
                    local_hostname=self._local_hostname,
                    timeout=server.timeout,
                )
            stage = "EHLO"
            smtp.ehlo()
            if server.security == "starttls":
                stage = "STARTTLS"
                smtp.starttls(context=self._ssl_context())
                smtp.ehlo()
            if server.username:
                stage = "login"
                smtp.login(server.username, server.password)
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            raise TransientChannelError(
                f"could not open an SMTP session with {server.describe()} ({stage}): "
                f"{_describe(exc)}"
            ) from exc
        return smtp

    def _ssl_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _settle(self, session: _Session, refused: _Refused) -> None:
        """After a refusal: reset the transaction and keep the session, or drop it."""
        if refused.code == 421:  # the server is closing this session
            self._discard(session)
            return
        try:
            code, _ = session.smtp.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code == 250:
            self._release(session)
        else:
            self._discard(session)

    def _release(self, session: _Session) -> None:
        session.last_used = self._monotonic()
        with self._cond:
            if not self._closed:
                self._idle.append(session)
                self._cond.notify()
                return
            self._open -= 1
        _quit(session.smtp)

    def _discard(self, session: _Session) -> None:
        session.smtp.close()
        with self._cond:
            self._open -= 1
            self._cond.notify()


def _envelope(sender: str, recipient: str, options: Sequence[str]) -> bytes:
    """``MAIL FROM``, ``RCPT TO`` and ``DATA`` as they go on the wire."""
    for address in (sender, recipient):
        if not address.isascii() or any(c in address for c in "<>\r\n "):
            raise PermanentChannelError(f"not a plain ASCII address: {address!r}")
    params = "".join(" " + option for option in options)
    return f"MAIL FROM:<{sender}>{params}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode("ascii")


def _transact(session: _Session, envelope: bytes, payload: bytes) -> None:
    """One mail transaction on ``session``; raises :class:`_Refused` or :class:`_Broken`."""
    smtp = session.smtp
    stage = "MAIL"
    try:
        if session.pipelining:
            smtp.send(envelope)
            replies = [smtp.getreply() for _ in range(3)]
        else:
            replies = []
            for command in envelope.split(b"\r\n")[:3]:
                smtp.send(command + b"\r\n")
                replies.append(smtp.getreply())
                if replies[-1][0] not in (250, 251, 354):
                    break
        stage = _first_failure(replies)
        if stage:
            if replies[-1][0] == 354:  # a server that took DATA without a recipient
                smtp.send(b".\r\n")
                smtp.getreply()
            code, reply = replies[("MAIL", "RCPT", "DATA").index(stage)]
            raise _Refused(stage, code, reply)
        stage = "message"
        smtp.send(payload)
        code, reply = smtp.getreply()
        if code != 250:
            raise _Refused(stage, code, reply)
    except (smtplib.SMTPException, OSError) as exc:
        raise _Broken(stage, exc) from exc


def _first_failure(replies: list[tuple[int, bytes]]) -> str:
    """The first envelope stage whose reply was not a success; ``""`` when all were."""
    expected = ((250,), (250, 251), (354,))
    for stage, (code, _), good in zip(("MAIL", "RCPT", "DATA"), replies, expected, strict=False):
        if code not in good:
            return stage
    return ""


_WHAT = {"MAIL": "sender", "RCPT": "recipient", "DATA": "message", "message": "message"}

# Replies about authentication (RFC 4954) concern the relay's set-up, not the message.
_AUTHENTICATION_CODES = frozenset({530, 534, 535, 538})


def _channel_error(
    refused: _Refused, server: SmtpServer
) -> TransientChannelError | PermanentChannelError:
    what = _WHAT[refused.stage]
    text = f"{server.describe()} refused the {what}: {refused.code} {refused.reply}".rstrip()
    if 500 <= refused.code < 600 and refused.code not in _AUTHENTICATION_CODES:
        return PermanentChannelError(text)
    return TransientChannelError(text)


def _alive(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}".replace("\n", " ")
    return str(error) or type(error).__name__
