"""RS256 assertions PyJWT accepts, and the pure parts of a push message."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lealta.channels import fanout
from lealta.channels.base import Delivery
from lealta.channels.jws import sign_rs256
from lealta.errors import PermanentChannelError


def _delivery(content: dict[str, object] | None = None, **payload: object) -> Delivery:
    return Delivery(
        outbox_id=3,
        idempotency_key="run-1:step-2",
        contact_id="c",
        channel="push",
        template="t",
        payload=payload,
        content=content or {},
    )


def test_an_rs256_assertion_verifies_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign_rs256({"iss": "me", "aud": "https://oauth.example/token"}, key, key_id="k1")
    assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "RS256", "kid": "k1"}
    claims = jwt.decode(
        token, key.public_key(), algorithms=["RS256"], audience="https://oauth.example/token"
    )
    assert claims["iss"] == "me"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other.public_key(), algorithms=["RS256"], audience=claims["aud"])


def test_the_notice_takes_the_rendered_parts_and_names_the_message() -> None:
    notice = fanout.notice(
        _delivery({"title": "Hi", "body": "", "url": "https://x.example/l/c/t", "data": {"a": 1}})
    )
    assert notice == {
        "title": "Hi",
        "url": "https://x.example/l/c/t",
        "tag": "lealta-3",
        "data": {"a": 1, "outbox_id": 3},
    }


def test_without_rendered_content_the_payload_is_used() -> None:
    assert fanout.notice(_delivery(None, body="From the payload"))["body"] == "From the payload"
    with pytest.raises(PermanentChannelError, match="neither a title nor a body"):
        fanout.notice(_delivery(None, url="https://x.example"))


def test_sending_options_default_and_are_checked() -> None:
    plain = _delivery({"title": "t"})
    assert (fanout.ttl_of(plain), fanout.urgency_of(plain)) == (86400, "normal")
    assert fanout.ttl_of(_delivery({"title": "t"}, ttl=10**9)) == fanout.MAX_TTL
    assert fanout.urgency_of(_delivery({"title": "t", "urgency": "low"})) == "low"
    with pytest.raises(PermanentChannelError, match="urgency"):
        fanout.urgency_of(_delivery({"title": "t", "urgency": "asap"}))
    with pytest.raises(PermanentChannelError, match="ttl"):
        fanout.ttl_of(_delivery({"title": "t", "ttl": "soon"}))


def test_the_collapse_key_is_stable_short_and_url_safe() -> None:
    first = fanout.collapse_key(_delivery({"title": "t"}))
    assert first == fanout.collapse_key(_delivery({"title": "other"}))
    assert len(first) == 32
    assert fanout.b64url_alphabet(first)
    assert fanout.collapse_key(_delivery({"title": "t", "topic": "sale-2025"})) == "sale-2025"
    hashed = fanout.collapse_key(_delivery({"title": "t", "topic": "spring sale!"}))
    assert len(hashed) == 32
    assert hashed != first


def test_provider_ids_are_listed_and_cut_to_fit_the_outbox() -> None:
    assert fanout.provider_id(["a", "b"]) == "a b"
    many = fanout.provider_id([f"0:{i:030d}" for i in range(20)])
    assert len(many) <= fanout.MAX_PROVIDER_ID
    assert many.endswith(" +20")


def test_process_memory_of_sent_keys_keeps_the_newest() -> None:
    sent = fanout.SentKeys(size=2)
    for key in ("a", "b", "c"):
        sent.put(key, f"id-{key}")
    assert (sent.get("a"), sent.get("b"), sent.get("c")) == (None, "id-b", "id-c")


def test_an_image_may_come_from_the_payload_beside_a_rendered_template() -> None:
    notice = fanout.notice(_delivery({"title": "Hi"}, image="https://x.example/b.png"))
    assert notice["image"] == "https://x.example/b.png"
