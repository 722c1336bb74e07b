"""Webhooks: a signed JSON ``POST`` (or ``PUT``) to a system of the shop's own.

What a receiver gets::

    POST /hooks/lealta HTTP/1.1
    Content-Type: application/json
    User-Agent: Lealta/0.1.0
    Idempotency-Key: wf:welcome:c_123:step-4      (the same on every retry: drop repeats)
    X-Lealta-Timestamp: 1748858400                (Unix seconds when this attempt was signed)
    X-Lealta-Signature: v1=5d41402abc4b2a76...    (hex HMAC-SHA256 of "<timestamp>.<body>")

    {"order": "A-1001", "contact": "c_123"}

The signing key is ``settings.webhook_secret``, or one derived from ``secret_key`` when that is
empty (:func:`signing_secret`). Receivers check requests with :func:`verify_signature`, which
also refuses timestamps more than five minutes away from their clock (replays).

Where the call goes and what it carries, first found wins: ``delivery.content`` (``url``,
``method``, ``body``: a rendered template), then ``delivery.payload`` (a workflow's webhook
step writes ``method`` and ``body`` there and the URL as the outbox row's ``template``), then
the payload itself as the body.

**Outcomes.** 2xx: delivered. 408, 429, 5xx, timeouts and connection errors: transient, so the
dispatcher retries with backoff under the same ``Idempotency-Key``. Any other answer (other 4xx,
and 3xx: redirects are not followed) is permanent.

**SSRF protection.** Only ``http`` and ``https`` URLs are called, and only when every address
the host name resolves to is a public one: loopback, private (RFC 1918, unique-local),
link-local (cloud metadata at 169.254.169.254), shared, reserved and multicast addresses are
refused, so a workflow author cannot make Lealta probe the internal network. The check is made
at sending time; ``allow_private=True`` lifts it (tests, or receivers on the same network).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx2
import orjson

from lealta import __version__
from lealta.channels.base import Delivery
from lealta.clock import Clock, SystemClock
from lealta.config import Settings
from lealta.errors import PermanentChannelError, TransientChannelError

SIGNATURE_HEADER = "X-Lealta-Signature"
TIMESTAMP_HEADER = "X-Lealta-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = 300
METHODS = ("POST", "PUT")
RETRIED_STATUSES = frozenset({408, 429})
_DERIVATION_LABEL = b"lealta webhook signing key v1"

Resolver = Callable[[str, int], Sequence[str]]


# -- signing (pure) ------------------------------------------------------------------------


def signing_secret(settings: Settings) -> str:
    """The webhook signing key: ``webhook_secret``, or a key derived from ``secret_key``.

    The derived key is the hex HMAC-SHA256 of a fixed label keyed with ``secret_key``: stable
    across restarts, and different from every other key Lealta derives.
    """
    if settings.webhook_secret:
        return settings.webhook_secret
    return hmac.new(settings.secret_key.encode(), _DERIVATION_LABEL, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Lealta-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    key = secret.encode() if isinstance(secret, str) else secret
    signed = f"{timestamp}.".encode() + body
    return f"{SIGNATURE_VERSION}={hmac.new(key, signed, hashlib.sha256).hexdigest()}"


def verify_signature(
    secret: str | bytes,
    timestamp: str | None,
    body: bytes,
    header: str | None,
    now: float | dt.datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether a webhook request is authentic and fresh.

    ``timestamp`` and ``header`` are the raw ``X-Lealta-Timestamp`` and ``X-Lealta-Signature``
    values, ``body`` the raw request body (before any JSON parsing), ``now`` the receiver's
    time (Unix seconds or an aware datetime). False when a header is missing or malformed,
    when the timestamp is more than ``tolerance`` seconds before or after ``now``, or when no
    ``v1=`` signature in the header (several may be given, comma-separated, while a key is
    being rotated) matches. Comparison takes constant time.
    """
    if not timestamp or not header or not timestamp.strip().isdigit():
        return False
    moment = now.timestamp() if isinstance(now, dt.datetime) else float(now)
    if abs(moment - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, timestamp.strip(), body)
    offered = [part.strip() for part in header.split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


# -- SSRF protection -----------------------------------------------------------------------


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the operating system's resolver)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(
    url: str, *, allow_private: bool = False, resolve: Resolver = system_resolver
) -> None:
    """Refuse ``url`` unless it is http(s) and (without ``allow_private``) its host resolves
    only to public addresses. Raises :class:`PermanentChannelError`, or
    :class:`TransientChannelError` when the name cannot be resolved right now."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise PermanentChannelError(f"webhook url {url!r} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentChannelError(f"webhook url {url!r} must be an http or https address")
    if allow_private:
        return
    try:
        addresses = resolve(parts.hostname, port)
    except OSError as exc:
        raise TransientChannelError(f"cannot resolve {parts.hostname!r}: {exc}") from exc
    private = [a for a in addresses if not is_public(a)]
    if private or not addresses:
        raise PermanentChannelError(
            f"webhook host {parts.hostname!r} resolves to a non-public address "
            f"({', '.join(private) or 'none'}); refused to protect the internal network"
        )


# -- the channel ---------------------------------------------------------------------------


class WebhookChannel:
    """Delivers webhook calls (see the module docstring for the protocol and outcomes).

    The call does not message a person, so the dispatcher skips consent, quiet hours and
    frequency caps (``requires_consent = False``). One pooled HTTP client serves every send.
    """

    name = "webhook"
    requires_consent = False

    def __init__(
        self,
        secret: str,
        *,
        timeout: float = 10.0,
        allow_private: bool = False,
        clock: Clock | None = None,
        resolve: Resolver = system_resolver,
        pool_size: int = 10,
    ) -> None:
        if not secret:
            raise ValueError("a webhook signing secret is required")
        self._secret = secret.encode()
        self.allow_private = allow_private
        self._clock = clock or SystemClock()
        self._resolve = resolve
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx2.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"User-Agent": f"Lealta/{__version__}"},
            follow_redirects=False,
            trust_env=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> WebhookChannel:
        """The channel signing with :func:`signing_secret` of ``settings``."""
        return cls(signing_secret(settings), **options)

    def send(self, delivery: Delivery) -> str:
        """Call the webhook; the receiver's ``X-Request-Id`` or else the idempotency key."""
        url, method, body = target(delivery)
        check_url(url, allow_private=self.allow_private, resolve=self._resolve)
        content = orjson.dumps(body, default=str)
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: delivery.idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, content),
        }
        try:
            response = self._client.request(method, url, content=content, headers=headers)
        except httpx2.TimeoutException as exc:
            raise TransientChannelError(f"webhook {url} timed out: {exc}") from exc
        except httpx2.TransportError as exc:
            raise TransientChannelError(f"webhook {url} unreachable: {exc}") from exc
        return _outcome(response, url, delivery.idempotency_key)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def target(delivery: Delivery) -> tuple[str, str, Any]:
    """(url, method, JSON body) of a webhook delivery; permanent error when there is no URL
    or the method is not POST or PUT."""
    content, payload = delivery.content, delivery.payload
    url = content.get("url") or payload.get("url")
    if not url and delivery.template.startswith(("http://", "https://")):
        url = delivery.template
    if not isinstance(url, str) or not url:
        raise PermanentChannelError("the webhook has no url")
    method = str(content.get("method") or payload.get("method") or "POST").upper()
    if method not in METHODS:
        raise PermanentChannelError(f"webhook method {method!r} is not one of POST, PUT")
    return url, method, _body(content, payload)


def _body(content: Mapping[str, Any], payload: Mapping[str, Any]) -> Any:
    if "body" in content:
        return content["body"]
    if "body" in payload:
        return payload["body"]
    return {k: v for k, v in payload.items() if k not in ("url", "method")}


def _outcome(response: httpx2.Response, url: str, key: str) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return response.headers.get("x-request-id") or key
    detail = f"webhook {url} answered {status}"
    snippet = response.text[:200].strip()
    if snippet:
        detail += f": {snippet}"
    if status in RETRIED_STATUSES or status >= 500:
        raise TransientChannelError(detail)
    if 300 <= status < 400:
        raise PermanentChannelError(f"{detail} (redirects are not followed)")
    raise PermanentChannelError(detail)
