"""Placement links routed through click URLs, and the signed on-site tokens."""

from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from lealta.onsite.markup import trackable, tracked_links
from lealta.onsite.tokens import OnsiteTokens

PAGE = "https://shop.example/products/shoes?size=42"


def track(url: str) -> str:
    return f"https://lealta.example/c?to={url}"


def test_links_are_tracked_and_the_rest_of_the_markup_is_kept() -> None:
    markup = (
        '<div class="banner"><a class="cta" href="https://shop.example/sale?x=1&amp;y=2">Sale</a>'
        "<A HREF='/winter'>Winter</A> <a href=https://blog.example/post>Blog</a>"
        '<img src="https://cdn.example/b.png" alt="b"></div>'
    )
    assert tracked_links(markup, track, page_url=PAGE) == (
        '<div class="banner"><a class="cta" '
        'href="https://lealta.example/c?to=https://shop.example/sale?x=1&amp;y=2">Sale</a>'
        '<A HREF="https://lealta.example/c?to=https://shop.example/winter">Winter</A> '
        '<a href="https://lealta.example/c?to=https://blog.example/post">Blog</a>'
        '<img src="https://cdn.example/b.png" alt="b"></div>'
    )


@pytest.mark.parametrize(
    "href", ["#top", "mailto:help@shop.example", "tel:+34600000000", "javascript:alert(1)", " "]
)
def test_links_that_are_not_web_pages_are_left_alone(href: str) -> None:
    markup = f'<a href="{href}">x</a>'
    assert tracked_links(markup, track, page_url=PAGE) == markup


def test_relative_links_are_left_alone_without_a_page_to_resolve_them() -> None:
    assert trackable("/sale", None) is None
    assert trackable("/sale", "about:blank") is None
    assert trackable("sale", PAGE) == "https://shop.example/products/sale"


def test_a_quote_in_the_target_cannot_break_out_of_the_attribute() -> None:
    out = tracked_links(
        '<a href="https://x.example/?q=&quot;onmouseover">x</a>', track, page_url=None
    )
    assert (
        out == '<a href="https://lealta.example/c?to=https://x.example/?q=&quot;onmouseover">x</a>'
    )


def test_tokens_carry_their_claims_and_refuse_tampering() -> None:
    tokens = OnsiteTokens("s3cret")
    token = tokens.sign("click", {"p": "hero", "u": "https://shop.example/", "a": None})
    assert tokens.read(token, "click") == {"p": "hero", "u": "https://shop.example/"}
    payload, _, signature = token.partition(".")
    forged = OnsiteTokens("s3cret").sign("click", {"p": "hero", "u": "https://evil.example/"})
    with pytest.raises(InvalidInput, match="not valid") as caught:
        tokens.read(forged.partition(".")[0] + "." + signature, "click")
    assert caught.value.field == "token"
    with pytest.raises(InvalidInput, match="not valid"):
        tokens.read(token, "impression")  # a click token is no impression token
    with pytest.raises(InvalidInput, match="not valid"):
        OnsiteTokens("other secret").read(token, "click")
    with pytest.raises(InvalidInput, match="malformed"):
        tokens.read(payload, "click")
