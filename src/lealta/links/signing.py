"""Signed tokens for the links Lealta puts in messages. Pure: no clock, database or settings.

A token is ``<payload>.<signature>``: the payload is compact JSON (base64url) naming the
kind of link and what it points at, the signature HMAC-SHA256 over the kind and the payload
with the secret key (truncated to 128 bits). Nothing is stored: the signature is the proof,
so a click link cannot be bent to another URL (no open redirect), and nobody can forge the
unsubscribe or survey link of another person by changing an id.

Kinds and what their claims hold:

============  ==============================================  =============================
kind          claims                                          URL
============  ==============================================  =============================
``click``     ``m`` outbox id, ``u`` target URL               ``/l/c/<token>``
``open``      ``m`` outbox id                                 ``/l/o/<token>.gif``
``unsub``     ``m`` outbox id (its contact and channel)       ``/l/u/<token>``
``prefs``     ``c`` contact id                                ``/l/p/<token>``
``survey``    ``m`` outbox id, ``s`` score 0 to 10, ``q`` name   ``/l/s/<token>``
============  ==============================================  =============================

Tokens do not expire: links in an old e-mail keep working, as people expect (an unsubscribe
link must). Rotating ``secret_key`` invalidates every link ever sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from lealta.errors import InvalidInput

KINDS = ("click", "open", "unsub", "prefs", "survey")
PATHS = {"click": "c", "open": "o", "unsub": "u", "prefs": "p", "survey": "s"}
SIGNATURE_BYTES = 16
LONGEST_TOKEN = 8192
# Compact JSON with sorted keys, non-ASCII escaped (``\\u00e9``). For claims of whole numbers
# and printable ASCII text orjson writes the same text some thirty times faster than the json
# module; any other claims go through the json module, so no token changes.
_CLAIMS = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_BLOCK = 64  # SHA-256's block size, for HMAC's padded keys (RFC 2104)
# Text JSON writes as it is between its quotes: printable ASCII but '"' and "\\".
_PLAIN_TEXT = re.compile(r"[ !#-\[\]-~]*")


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    kind: str
    outbox_id: int | None = None
    contact_id: str | None = None
    url: str | None = None
    score: int | None = None
    survey: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Links:
    """Makes and reads signed links for one deployment (``secret`` and public ``base_url``)."""

    def __init__(self, secret: str, base_url: str) -> None:
        if not secret:
            raise ValueError("a secret is needed to sign links")
        self._key = hashlib.sha256(b"lealta-links|" + secret.encode()).digest()
        self.base_url = base_url.rstrip("/")
        # HMAC-SHA256 (RFC 2104) kept as its two hashes, the padded key already taken in
        # (and, in the inner one, "<kind>|"): each signature copies them and adds the payload
        # (a message carries several links). The same digest as ``hmac.new``, without its
        # Python wrapper, which cost as much again as the hashing.
        padded = self._key.ljust(_BLOCK, b"\0")
        inner_key = bytes(byte ^ 0x36 for byte in padded)
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
        self._inner = {kind: hashlib.sha256(inner_key + f"{kind}|".encode()) for kind in KINDS}

    # -- making --------------------------------------------------------------------------

    def token(self, kind: str, claims: Mapping[str, Any]) -> str:
        """A signed token of ``kind`` carrying ``claims`` (short keys, JSON values)."""
        if kind not in KINDS:
            raise ValueError(f"unknown link kind {kind!r}")
        payload = _b64(_claims_json(claims))
        return f"{payload}.{self._sign(kind, payload)}"

    def click(self, outbox_id: int, url: str, *, utm: Mapping[str, str] | None = None) -> str:
        """A tracked link to ``url`` (``http``/``https`` only) with ``utm`` parameters added
        (parameters already in the URL win)."""
        target = with_utm(url, utm or {})
        if type(outbox_id) is int:
            return self.click_for(outbox_id, _url_claim(target))
        return self._url("click", {"m": outbox_id, "u": target})

    def click_target(self, url: str, *, utm: Mapping[str, str] | None = None) -> bytes:
        """What :meth:`click` signs of ``url`` whatever the message: hand it to
        :meth:`click_for` (a batch links many messages to the same targets).
        ``InvalidInput`` unless ``url`` is http(s)."""
        return _url_claim(with_utm(url, utm or {}))

    def click_for(self, outbox_id: int, target: bytes) -> str:
        """:meth:`click` of message ``outbox_id`` to the target :meth:`click_target` gave."""
        # the claims' JSON put together: the same text as _claims_json's, sooner
        payload = _b64(b'{"m":%d,%b}' % (outbox_id, target))
        return f"{self.base_url}/l/{PATHS['click']}/{payload}.{self._sign('click', payload)}"

    def open_pixel(self, outbox_id: int) -> str:
        """The 1x1 image whose loading records an open."""
        return self._message_url("open", outbox_id) + ".gif"

    def unsubscribe(self, outbox_id: int) -> str:
        """The unsubscribe page of a message (GET shows it; POST unsubscribes at once, as
        RFC 8058 one-click unsubscribe requires)."""
        return self._message_url("unsub", outbox_id)

    def preferences(self, contact_id: str) -> str:
        """The page where a person chooses channels and lists."""
        if type(contact_id) is str and _PLAIN_TEXT.fullmatch(contact_id):
            payload = _b64(b'{"c":"%b"}' % contact_id.encode())  # _claims_json's very text
            return f"{self.base_url}/l/{PATHS['prefs']}/{payload}.{self._sign('prefs', payload)}"
        return self._url("prefs", {"c": contact_id})

    def survey(self, outbox_id: int, score: int, *, survey: str = "nps") -> str:
        """The link that answers ``survey`` with ``score`` (0 to 10) for a message's recipient."""
        if not 0 <= score <= 10:
            raise ValueError("a survey score is between 0 and 10")
        return self._url("survey", {"m": outbox_id, "s": score, "q": survey})

    # -- reading -------------------------------------------------------------------------

    def read(self, token: str, kind: str) -> Claims:
        """The claims of ``token`` if it is a valid ``kind`` token; ``InvalidInput`` (field
        ``token``) when it is malformed, of another kind or its signature does not match."""
        if kind not in KINDS:
            raise ValueError(f"unknown link kind {kind!r}")
        if kind == "open" and token.endswith(".gif"):
            token = token[: -len(".gif")]
        payload, dot, signature = token.partition(".")
        if not (payload and dot and signature) or len(token) > LONGEST_TOKEN:
            raise InvalidInput("the link is malformed", field="token")
        if not hmac.compare_digest(self._sign(kind, payload).encode(), signature.encode()):
            raise InvalidInput("the link is not valid", field="token")
        try:
            data = json.loads(_unb64(payload))
        except (binascii.Error, ValueError) as error:
            raise InvalidInput("the link is malformed", field="token") from error
        if not isinstance(data, dict):
            raise InvalidInput("the link is malformed", field="token")
        known = {"m", "c", "u", "s", "q"}
        return Claims(
            kind=kind,
            outbox_id=data.get("m"),
            contact_id=data.get("c"),
            url=data.get("u"),
            score=data.get("s"),
            survey=data.get("q"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    # -- internals -----------------------------------------------------------------------

    def _sign(self, kind: str, payload: str) -> str:
        inner = self._inner[kind].copy()
        inner.update(payload.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return _b64(outer.digest()[:SIGNATURE_BYTES])

    def _url(self, kind: str, claims: Mapping[str, Any]) -> str:
        return f"{self.base_url}/l/{PATHS[kind]}/{self.token(kind, claims)}"

    def _message_url(self, kind: str, outbox_id: int) -> str:
        """The link of ``kind`` whose only claim is the outbox id ``m``."""
        if type(outbox_id) is not int:
            return self._url(kind, {"m": outbox_id})
        payload = _b64(b'{"m":%d}' % outbox_id)  # _claims_json's very text for an int
        return f"{self.base_url}/l/{PATHS[kind]}/{payload}.{self._sign(kind, payload)}"


def _claims_json(claims: Mapping[str, Any]) -> bytes:
    """``claims`` as compact JSON with sorted keys, non-ASCII text escaped."""
    if all(type(value) is int or type(value) is str for value in claims.values()):
        try:
            data = orjson.dumps(claims, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not a dict, or a str subclass orjson will not take
            pass
        else:
            if data.isascii() and b"\x7f" not in data:  # json escapes DEL too
                return data
    return _CLAIMS.encode(dict(claims)).encode()


@lru_cache(maxsize=4096)  # a mailing links everyone to the same few pages
def _url_claim(url: str) -> bytes:
    """The ``"u":…`` member of the claims' JSON for target ``url`` (as :func:`_claims_json`
    writes it, within claims sorted by key)."""
    return _claims_json({"u": url})[1:-1]


def with_utm(url: str, utm: Mapping[str, str]) -> str:
    """``url`` with ``utm_*`` parameters added; ``InvalidInput`` unless it is http(s)."""
    return _with_utm(url, tuple(utm.items()))


@lru_cache(maxsize=4096)  # a mailing links everyone to the same few pages
def _with_utm(url: str, utm: tuple[tuple[str, str], ...]) -> str:
    if utm and _PLAIN_URL.fullmatch(url):  # what urllib would give back, without its work
        query = _utm_query(utm)
        return f"{url}?{query}" if query else url
    return _with_utm_parsed(url, utm)


# An http(s) URL with no query, fragment or anything urllib would change in reading and
# writing it again (its scheme lower-case, plain ASCII in the host, port and path).
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?", re.ASCII
)


@lru_cache(maxsize=64)
def _utm_query(utm: tuple[tuple[str, str], ...]) -> str:
    """The query :func:`_with_utm_parsed` writes for ``utm`` into a URL that has none."""
    return urlencode(
        [
            (name if name.startswith("utm_") else f"utm_{name}", value)
            for name, value in utm
            if value
        ]
    )


def _with_utm_parsed(url: str, utm: tuple[tuple[str, str], ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"only http and https links can be tracked: {url!r}", field="url")
    if not utm:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    for name, value in utm:
        key = name if name.startswith("utm_") else f"utm_{name}"
        if key not in present and value:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))
