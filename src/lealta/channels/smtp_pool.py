"""A thread-safe pool of SMTP connections, reused across sends.

Opening an SMTP session costs a TCP (and often a TLS) handshake, EHLO and AUTH: far more than
one message. The pool keeps up to ``size`` sessions open and hands each to one thread at a
time. A session idle for longer than ``probe_after`` seconds is checked with ``NOOP`` before
use; one that turns out dead when the transaction starts (the server timed it out, or said
``421`` on its way out) is replaced and the message tried once more on a fresh session. That
retry is safe because nothing of the message had been sent; once the message text is on the
wire a failure is reported instead, since the server may have taken it.

When the server offers ``PIPELINING`` (RFC 2920) the envelope (``MAIL``, ``RCPT``, ``DATA``)
goes out in one write, which saves two round trips per message; :meth:`SmtpPool.send_many`
also writes each message's text together with the next message's envelope, so a run of
messages costs one write and one wait for the server per message.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from lealta.errors import PermanentChannelError, TransientChannelError

Security = Literal["none", "starttls", "tls"]

_LEADING_DOT = re.compile(rb"(?m)^\.")
ChannelError = TransientChannelError | PermanentChannelError


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
        payload = _data(message)
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

    def send_many(
        self,
        sender: str,
        messages: Sequence[tuple[str, bytes]],
        *,
        options: Sequence[str] = (),
    ) -> list[ChannelError | None]:
        """Hand each of ``messages`` (recipient, message, as for :meth:`send`) to the relay
        over one session; for each, ``None`` when the relay took it, else the channel error
        :meth:`send` would have raised.

        With ``PIPELINING`` a message's text goes out in the same write as the next message's
        envelope (RFC 2920 lets message text open a group and ``DATA`` close one), so each
        message costs one write and one wait for the server instead of two. No text is
        written before the server has answered its ``DATA`` with ``354``. When the session
        ends (``421``, a dropped connection), the messages whose text was not on the wire yet
        are tried once more on a fresh session, as :meth:`send` does for one message; the one
        whose text was, is reported failed, since the server may have taken it.
        """
        results: list[ChannelError | None] = [None] * len(messages)
        todo: list[_Pending] = []
        for index, (recipient, message) in enumerate(messages):
            try:
                envelope = _envelope(sender, recipient, options)
            except PermanentChannelError as exc:
                results[index] = exc
                continue
            todo.append(_Pending(index, envelope, _data(message)))
        for attempt in (1, 2):
            if not todo:
                break
            session = self._acquire(probe=attempt > 1)
            if not session.pipelining:
                self._release(session)
                for pending in todo:
                    results[pending.index] = self._send_one(sender, messages[pending.index])
                break
            reused = session.used > 0
            try:
                done, todo, ended = _pipeline(session, todo)
            except BaseException:  # interrupted mid-transaction: the session's state is unknown
                self._discard(session)
                raise
            if ended is None:
                self._release(session)
            else:
                self._discard(session)
            for index, failure in done:
                results[index] = None if failure is None else self._error(failure)
            if ended is not None and todo and not (reused and attempt == 1):
                for pending in todo:
                    results[pending.index] = self._error(ended)
                break
        return results

    def _send_one(self, sender: str, message: tuple[str, bytes]) -> ChannelError | None:
        try:
            self.send(sender, message[0], message[1])
        except (TransientChannelError, PermanentChannelError) as exc:
            return exc
        return None

    def _error(self, failure: _Refused | _Broken) -> ChannelError:
        if isinstance(failure, _Refused):
            return _channel_error(failure, self.server)
        return TransientChannelError(
            f"SMTP connection to {self.server.describe()} failed during "
            f"{failure.stage}: {_describe(failure.error)}"
        )

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


def _data(message: bytes) -> bytes:
    """``message`` as it goes after ``DATA``: each line starting with a dot gets one more
    (RFC 5321 4.5.2), then the closing ``.`` line. Most messages have no such line, and
    looking for one is quicker than the substitution."""
    if message.startswith(b".") or b"\n." in message:
        message = _LEADING_DOT.sub(b"..", message)
    return message + b".\r\n"


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


@dataclass(frozen=True)
class _Pending:
    """A message of :meth:`SmtpPool.send_many`: its place, envelope and dot-stuffed text."""

    index: int
    envelope: bytes
    payload: bytes


_Outcome = tuple[int, "_Refused | _Broken | None"]


def _pipeline(
    session: _Session, todo: Sequence[_Pending]
) -> tuple[list[_Outcome], list[_Pending], _Refused | _Broken | None]:
    """``todo`` sent on ``session`` (which offers ``PIPELINING``), each write holding the text
    of the message whose ``DATA`` was just accepted and the next envelope. Returns each
    finished message's place and failure (``None``: taken), the messages whose text was not
    sent when the session ended, and why it ended (``None``: it did not)."""
    smtp = session.smtp
    done: list[_Outcome] = []
    following = iter(todo)
    writing: list[bytes] = []
    expected: list[tuple[str, _Pending]] = []

    def start(pending: _Pending | None) -> None:
        if pending is not None:
            session.used += 1
            writing.append(pending.envelope)
            expected.extend((stage, pending) for stage in ("MAIL", "RCPT", "DATA"))

    start(next(following, None))
    while expected:
        group, writing = b"".join(writing), []
        asked, expected = expected, []
        envelope: list[tuple[int, bytes]] = []
        at = 0
        try:
            smtp.send(group)
            for at, (stage, pending) in enumerate(asked):
                code, reply = smtp.getreply()
                if code == 421:  # the server is closing the session
                    if stage == "message":
                        done.append((pending.index, _Refused(stage, code, reply)))
                        at += 1
                    return done, _unsent(asked[at:], following), _Refused(stage, code, reply)
                if stage == "message":
                    failed = None if code == 250 else _Refused(stage, code, reply)
                    done.append((pending.index, failed))
                    if failed is not None:
                        writing.append(b"RSET\r\n")
                        expected.append(("RSET", pending))
                elif stage == "RSET" and code != 250:
                    ended = _Refused(stage, code, reply)
                    return done, _unsent(asked[at + 1 :], following), ended
                elif stage in ("MAIL", "RCPT", "DATA"):
                    envelope.append((code, reply))
                    if stage == "DATA":
                        _after_envelope(pending, envelope, done, writing, expected)
                        envelope = []
        except (smtplib.SMTPException, OSError) as exc:
            for stage, pending in asked[at:]:
                if stage == "message":  # its text is on the wire: the server may have it
                    done.append((pending.index, _Broken(stage, exc)))
            return done, _unsent(asked[at:], following), _Broken("MAIL", exc)
        start(next(following, None))
    return done, [], None


def _after_envelope(
    pending: _Pending,
    replies: list[tuple[int, bytes]],
    done: list[_Outcome],
    writing: list[bytes],
    expected: list[tuple[str, _Pending]],
) -> None:
    """What follows a message's envelope replies: its text, or its refusal and a reset."""
    stage = _first_failure(replies)
    if not stage:
        writing.append(pending.payload)
        expected.append(("message", pending))
        return
    if replies[-1][0] == 354:  # a server that took DATA without a recipient
        writing.append(b".\r\n")
        expected.append(("end", pending))
    code, reply = replies[("MAIL", "RCPT", "DATA").index(stage)]
    done.append((pending.index, _Refused(stage, code, reply)))
    writing.append(b"RSET\r\n")
    expected.append(("RSET", pending))


def _unsent(asked: Sequence[tuple[str, _Pending]], following: Iterator[_Pending]) -> list[_Pending]:
    """The messages of ``asked`` whose text was not sent yet, then all of ``following``."""
    started = {id(p): p for stage, p in asked if stage in ("MAIL", "RCPT", "DATA")}
    return [*started.values(), *following]


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
