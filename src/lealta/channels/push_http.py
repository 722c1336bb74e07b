"""HTTP for the push channels: one pooled client, POSTs judged by the channel.

Connections are kept alive (FCM takes every message on one host; browsers' push services are
a handful of hosts). Redirects are not followed: push services never redirect a send, and
following one would let a registered endpoint steer Lealta's requests elsewhere. Network
failures (refused, reset, timed out) are :class:`~lealta.errors.TransientChannelError`; every
HTTP answer, 4xx and 5xx included, comes back as an :class:`Answer`.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

from lealta import __version__
from lealta.errors import TransientChannelError


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body as JSON; ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def retry_after(self) -> str:
        """`` (retry after N s)`` from a ``Retry-After`` header (seconds or a date), or ``""``."""
        value = self.headers.get("retry-after", "").strip()
        if value.isdigit():
            return f" (retry after {int(value)} s)"
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return ""
        return f" (retry after {value})"


class Poster:
    """POSTs through a pool of ``pool_size`` kept-alive connections."""

    def __init__(self, *, timeout: float = 10.0, pool_size: int = 10) -> None:
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx2.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"User-Agent": f"Lealta/{__version__}"},
            follow_redirects=False,
            trust_env=False,
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """POST ``body`` to ``url``; the answer, whatever its status."""
        try:
            response = self._client.post(url, content=body, headers=dict(headers))
        except httpx2.TimeoutException as exc:
            raise TransientChannelError(f"{_host(url)} timed out: {exc}") from exc
        except httpx2.TransportError as exc:
            raise TransientChannelError(f"could not reach {_host(url)}: {exc}") from exc
        return Answer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def _host(url: str) -> str:
    try:
        return httpx2.URL(url).host or url
    except httpx2.InvalidURL:
        return url
