"""A visitor's user id is proved by the shop server's signature, never by the id alone."""

from __future__ import annotations

import hashlib
import hmac

from lealta.loyalty.visitors import hash_matches, identity_secret, user_hash


def test_the_user_hash_is_the_hmac_a_shop_computes_with_the_identity_secret() -> None:
    secret = identity_secret("the server's secret key")
    shop = hmac.new(secret.encode(), b"customer-42", hashlib.sha256).hexdigest()
    assert user_hash(secret, "customer-42") == shop
    assert hash_matches("the server's secret key", "customer-42", shop.upper())


def test_another_id_another_secret_or_no_hash_does_not_match() -> None:
    secret = identity_secret("k1")
    assert not hash_matches("k1", "customer-43", user_hash(secret, "customer-42"))
    assert not hash_matches("k2", "customer-42", user_hash(secret, "customer-42"))
    assert not hash_matches("k1", "customer-42", "")
    assert identity_secret("k1") != identity_secret("k2")
