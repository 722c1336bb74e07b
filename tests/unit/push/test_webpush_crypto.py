"""Web Push encryption against RFC 8291's own example, and VAPID checked by PyJWT."""

from __future__ import annotations

import datetime as dt
import os
import re

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from lealta.channels.jws import b64url, b64url_decode
from lealta.channels.webpush_crypto import (
    MAX_PLAINTEXT,
    VapidKeys,
    content_keys,
    encrypt,
    load_private,
    load_public,
    origin,
    public_bytes,
    read_subscription,
    vapid_authorization,
)
from lealta.errors import InvalidInput
from tests.integration.push.fake_webpush import decrypt

# RFC 8291, section 5 and Appendix A.
PLAINTEXT = b"When I grow up, I want to be a watermelon"
UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
SALT = "DGv6ra1nlYgDCS1FRnbzlw"
ECDH_SECRET = "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"
CEK = "oIhVW04MRdy2XN9CiKLxTg"
NONCE = "4h_95klXJ5E_qnoN"
BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmY"
    "WAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexS"
    "gSxsj_Qulcy4a-fN"
)


def test_the_rfc_8291_example_encrypts_to_the_published_body() -> None:
    body = encrypt(
        PLAINTEXT,
        b64url_decode(UA_PUBLIC),
        b64url_decode(AUTH),
        sender=load_private(b64url_decode(AS_PRIVATE)),
        salt=b64url_decode(SALT),
    )
    assert b64url(body) == BODY


def test_the_rfc_8291_key_schedule_gives_the_published_key_and_nonce() -> None:
    sender = load_private(b64url_decode(AS_PRIVATE))
    assert b64url(public_bytes(sender.public_key())) == AS_PUBLIC
    secret = sender.exchange(ec.ECDH(), load_public(b64url_decode(UA_PUBLIC)))
    assert b64url(secret) == ECDH_SECRET
    cek, nonce = content_keys(
        secret,
        b64url_decode(AUTH),
        b64url_decode(UA_PUBLIC),
        b64url_decode(AS_PUBLIC),
        b64url_decode(SALT),
    )
    assert (b64url(cek), b64url(nonce)) == (CEK, NONCE)


def test_the_rfc_8291_body_opens_with_the_receivers_key() -> None:
    receiver = load_private(b64url_decode(UA_PRIVATE))
    assert decrypt(b64url_decode(BODY), receiver, b64url_decode(AUTH)) == PLAINTEXT


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=MAX_PLAINTEXT))
def test_any_payload_that_fits_opens_in_the_browser(plaintext: bytes) -> None:
    browser = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    body = encrypt(plaintext, public_bytes(browser.public_key()), auth)
    assert len(body) <= 4096
    assert decrypt(body, browser, auth) == plaintext


def test_two_messages_share_neither_salt_nor_sender_key() -> None:
    browser = ec.generate_private_key(ec.SECP256R1())
    ua_public, auth = public_bytes(browser.public_key()), os.urandom(16)
    first, second = encrypt(b"hi", ua_public, auth), encrypt(b"hi", ua_public, auth)
    assert first[:16] != second[:16]
    assert first[21:86] != second[21:86]


def test_a_payload_too_long_for_one_record_is_refused() -> None:
    browser = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidInput) as caught:
        encrypt(b"x" * (MAX_PLAINTEXT + 1), public_bytes(browser.public_key()), os.urandom(16))
    assert caught.value.field == "payload"


def test_a_point_off_the_curve_is_refused() -> None:
    bogus = bytearray(b64url_decode(UA_PUBLIC))
    bogus[40] ^= 0xFF
    with pytest.raises(InvalidInput, match="not a point"):
        load_public(bytes(bogus))


def test_the_vapid_header_carries_a_token_pyjwt_accepts() -> None:
    keys = VapidKeys.generate()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    endpoint = "https://updates.push.example:8443/wpush/v2/abc?x=1"
    header = vapid_authorization(keys, endpoint, subject="mailto:ops@shop.example", now=now)
    found = re.fullmatch(r"vapid t=(\S+), k=(\S+)", header)
    assert found
    token, key = found.groups()
    assert key == keys.public_b64
    public = load_public(b64url_decode(key))
    claims = jwt.decode(
        token, public, algorithms=["ES256"], audience="https://updates.push.example:8443"
    )
    assert claims["sub"] == "mailto:ops@shop.example"
    assert now.timestamp() < claims["exp"] <= now.timestamp() + 24 * 3600
    assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "ES256"}


def test_the_audience_is_the_endpoints_origin() -> None:
    assert origin("https://fcm.googleapis.com/fcm/send/abc:def") == "https://fcm.googleapis.com"
    assert origin("http://127.0.0.1:8080/push/1") == "http://127.0.0.1:8080"


def test_vapid_keys_survive_the_settings_format() -> None:
    keys = VapidKeys.generate()
    again = VapidKeys.from_settings(keys.private_b64, keys.public_b64)
    assert again.public_raw == keys.public_raw
    assert len(b64url_decode(keys.private_b64)) == 32
    assert len(b64url_decode(keys.public_b64)) == 65


@pytest.mark.parametrize(
    ("private", "public", "field"),
    [
        ("", "", "vapid_private_key"),
        ("not base64!", "", "vapid_private_key"),
        ("AAAA", "", "vapid_private_key"),
        (None, VapidKeys.generate().public_b64, "vapid_public_key"),
    ],
    ids=["empty", "not-base64", "too-short", "public-key-of-another-pair"],
)
def test_unusable_vapid_settings_are_refused(private: str | None, public: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        VapidKeys.from_settings(
            private if private is not None else VapidKeys.generate().private_b64, public
        )
    assert caught.value.field == field


def test_a_browser_subscription_is_read_and_checked() -> None:
    auth = b64url(os.urandom(16))
    found = read_subscription(
        {
            "endpoint": "https://push.example/1",
            "expirationTime": None,
            "keys": {"p256dh": UA_PUBLIC, "auth": auth},
        }
    )
    assert found.endpoint == "https://push.example/1"
    assert found.p256dh == b64url_decode(UA_PUBLIC)
    with pytest.raises(InvalidInput) as caught:
        read_subscription({"endpoint": "javascript:alert(1)", "keys": {}})
    assert caught.value.field == "subscription.endpoint"


def test_base64url_is_read_with_or_without_padding_and_refused_otherwise() -> None:
    assert b64url_decode("AQI") == b"\x01\x02" == b64url_decode("AQI=")
    assert b64url_decode("-_8") == b"\xfb\xff" == b64url_decode("+/8=")
    for bad in ("A", "a b", "é"):
        with pytest.raises(ValueError, match="base64url"):
            b64url_decode(bad)
