"""The Affinity page says what its lift means for the view shown: together in one order, or
one after the other (where one-time buyers keep broad categories' lifts below 1)."""

from __future__ import annotations

from html import unescape

from tests.integration.affinity.test_next_best_store import post_orders
from tests.integration.conftest import Api
from tests.integration.console.test_console import _sign_in, _user


def test_the_lift_is_explained_for_pairs_together_and_in_sequence(api: Api) -> None:
    post_orders(api)
    _user(api, "vic@example.com", "viewer")
    assert _sign_in(api.client, "vic@example.com") == 303
    together = unescape(api.client.get("/affinity").text)
    assert "bought together more often than chance would have it" in together
    assert "go on to buy" not in together
    sequence = unescape(api.client.get("/affinity?sequence=1").text)
    assert "the first's buyers go on to buy the second more often than" in sequence
    assert "with many one-time buyers lifts of broad categories stay below 1" in sequence
    assert "bought together more often" not in sequence
