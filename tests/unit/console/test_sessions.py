"""Session cookies: read back as issued, refused when forged, altered, foreign or expired."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.console.sessions import SessionCodec

NOW = 1_800_000_000.0


def test_a_session_reads_back_as_issued() -> None:
    codec = SessionCodec("secret")
    cookie, issued = codec.issue("u1", 3, now=NOW)
    assert codec.read(cookie, now=NOW + 60) == issued
    assert issued.user_id == "u1"
    assert issued.epoch == 3
    assert len(issued.csrf) >= 24


def test_each_session_has_its_own_csrf_token() -> None:
    codec = SessionCodec("secret")
    first = codec.issue("u1", 0, now=NOW)[1]
    second = codec.issue("u1", 0, now=NOW)[1]
    assert first.csrf != second.csrf


def test_another_deployments_cookie_is_refused() -> None:
    cookie, _ = SessionCodec("one secret").issue("u1", 0, now=NOW)
    assert SessionCodec("another secret").read(cookie, now=NOW) is None


def test_an_altered_payload_is_refused() -> None:
    codec = SessionCodec("secret")
    cookie, _ = codec.issue("u1", 0, now=NOW)
    payload, signature = cookie.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["u"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert codec.read(f"{forged}.{signature}", now=NOW) is None


@pytest.mark.parametrize("age", [7 * 24 * 3600 + 1, -5])
def test_expired_or_future_sessions_are_refused(age: float) -> None:
    codec = SessionCodec("secret")
    cookie, _ = codec.issue("u1", 0, now=NOW)
    assert codec.read(cookie, now=NOW + age) is None


@given(st.text(max_size=300))
def test_any_text_is_read_as_no_session_or_a_valid_one(text: str) -> None:
    assert SessionCodec("secret").read(text, now=NOW) is None


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        SessionCodec("")
