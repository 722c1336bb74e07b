"""Webhook signatures, where a webhook goes, and the addresses refused to protect the network."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable

import pytest

from lealta.channels.base import Delivery
from lealta.channels.webhook import (
    check_url,
    is_public,
    sign,
    signing_secret,
    target,
    verify_signature,
)
from lealta.config import Settings
from lealta.errors import PermanentChannelError, TransientChannelError

SECRET = "whsec_test"
BODY = b'{"order":"A-1","total":12.5}'
NOW = 1_748_858_400


def test_the_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1748858400." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"v1={expected}"


def test_a_fresh_untouched_request_verifies() -> None:
    header = sign(SECRET, NOW, BODY)
    assert verify_signature(SECRET, str(NOW), BODY, header, NOW + 299)
    assert verify_signature(SECRET, str(NOW), BODY, header, dt.datetime.fromtimestamp(NOW, dt.UTC))
    assert verify_signature(SECRET.encode(), str(NOW), BODY, header, NOW)


def test_tampering_replays_and_wrong_keys_are_refused() -> None:
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature(SECRET, str(NOW), BODY + b" ", header, NOW)
    assert not verify_signature(SECRET, str(NOW + 1), BODY, header, NOW)
    assert not verify_signature("other", str(NOW), BODY, header, NOW)
    assert not verify_signature(SECRET, str(NOW), BODY, header, NOW + 301)  # replayed later
    assert not verify_signature(SECRET, str(NOW), BODY, header, NOW - 301)  # from the future
    assert verify_signature(SECRET, str(NOW), BODY, header, NOW + 1000, tolerance=1000)


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [(None, "v1=00"), ("", "v1=00"), ("12a", "v1=00"), (str(NOW), None), (str(NOW), "")],
)
def test_missing_or_malformed_headers_are_refused(
    timestamp: str | None, header: str | None
) -> None:
    assert not verify_signature(SECRET, timestamp, BODY, header, NOW)


def test_any_of_several_signatures_may_match_while_keys_rotate() -> None:
    header = f"{sign('old', NOW, BODY)}, {sign(SECRET, NOW, BODY)}"
    assert verify_signature(SECRET, str(NOW), BODY, header, NOW)
    assert verify_signature("old", str(NOW), BODY, header, NOW)
    assert not verify_signature("third", str(NOW), BODY, header, NOW)


def test_the_secret_is_the_setting_or_derived_from_the_secret_key() -> None:
    given = Settings(_env_file=None, secret_key="k1", webhook_secret="explicit")
    derived = Settings(_env_file=None, secret_key="k1")
    other = Settings(_env_file=None, secret_key="k2")
    assert signing_secret(given) == "explicit"
    assert len(signing_secret(derived)) == 64
    assert signing_secret(derived) == signing_secret(Settings(_env_file=None, secret_key="k1"))
    assert signing_secret(derived) not in (signing_secret(other), "k1")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


def resolver(*addresses: str) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def test_urls_resolving_to_private_addresses_are_refused() -> None:
    check_url("https://hooks.shop.example/x", resolve=resolver("93.184.216.34"))
    with pytest.raises(PermanentChannelError, match="non-public"):
        check_url("https://hooks.shop.example/x", resolve=resolver("93.184.216.34", "10.0.0.5"))
    with pytest.raises(PermanentChannelError, match="non-public"):
        check_url("http://metadata/latest", resolve=resolver("169.254.169.254"))
    with pytest.raises(PermanentChannelError, match="non-public"):
        check_url("http://127.0.0.1:8000/admin")  # an IP literal is checked as it is
    check_url("http://127.0.0.1:8000/hook", allow_private=True)


def test_only_http_and_https_urls_are_called() -> None:
    for url in ("ftp://shop.example/x", "file:///etc/passwd", "gopher://x", "https://", "x"):
        with pytest.raises(PermanentChannelError, match="http or https"):
            check_url(url, allow_private=True)
    with pytest.raises(PermanentChannelError, match="not a valid URL"):
        check_url("http://shop.example:99999/x")


def test_a_name_that_does_not_resolve_now_is_transient() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("Temporary failure in name resolution")

    with pytest.raises(TransientChannelError, match="cannot resolve"):
        check_url("https://hooks.shop.example/x", resolve=failing)


def delivery(**parts: object) -> Delivery:
    return Delivery(
        outbox_id=1,
        idempotency_key="k",
        contact_id="c1",
        channel="webhook",
        template=str(parts.pop("template", "order-hook")),
        **parts,  # type: ignore[arg-type]
    )


def test_rendered_content_comes_first() -> None:
    found = delivery(
        content={"url": "https://a.example/h", "body": {"x": 1}, "method": "put"},
        payload={"url": "https://b.example/h", "body": {"y": 2}},
    )
    assert target(found) == ("https://a.example/h", "PUT", {"x": 1})


def test_a_workflow_step_row_carries_the_url_as_template_and_method_and_body_in_payload() -> None:
    found = delivery(
        template="https://crm.example/hooks/lealta",
        payload={"method": "POST", "body": {"event": "vip"}},
    )
    assert target(found) == ("https://crm.example/hooks/lealta", "POST", {"event": "vip"})


def test_without_a_body_the_payload_is_sent() -> None:
    found = delivery(payload={"url": "https://a.example/h", "order": "A-1"})
    assert target(found) == ("https://a.example/h", "POST", {"order": "A-1"})


def test_no_url_or_an_unsupported_method_is_permanent() -> None:
    with pytest.raises(PermanentChannelError, match="no url"):
        target(delivery(payload={"body": {}}))
    with pytest.raises(PermanentChannelError, match="DELETE"):
        target(delivery(payload={"url": "https://a.example/h", "method": "DELETE"}))
