"""Tracked links, the open pixel and unsubscribe headers on rendered parts."""

from __future__ import annotations

import html as html_lib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lealta.messages.tracking import (
    add_open_pixel,
    rewrite_html_links,
    rewrite_text_links,
    track,
)

OWN = "https://mail.example/l/"


def tracked(url: str) -> str:
    return f"https://mail.example/l/c/{len(url)}?to={url}"


def test_http_links_in_html_are_rewritten_and_others_left_alone() -> None:
    html = (
        '<a href="https://shop.example/a?x=1&amp;y=2">A</a>'
        "<a class='b' href='http://shop.example/b'>B</a>"
        '<a href="mailto:hi@shop.example">mail</a><a href="#top">top</a>'
        '<a href="https://mail.example/l/u/TOKEN">unsubscribe</a>'
        '<a data-lealta-notrack href="https://shop.example/private">p</a>'
        '<link href="https://shop.example/style.css">'
    )
    seen: list[str] = []

    def rewrite(url: str) -> str:
        seen.append(url)
        return tracked(url)

    out = rewrite_html_links(html, rewrite, own_prefix=OWN)
    assert seen == ["https://shop.example/a?x=1&y=2", "http://shop.example/b"]
    assert 'href="https://mail.example/l/c/30?to=https://shop.example/a?x=1&amp;y=2"' in out
    assert "href='https://mail.example/l/c/21?to=http://shop.example/b'" in out
    for untouched in ("mailto:hi@", "#top", "/l/u/TOKEN", "shop.example/private", "style.css"):
        assert untouched in out


def test_bare_urls_in_text_keep_trailing_punctuation_outside() -> None:
    text = "See https://shop.example/sale. Or (https://shop.example/x), https://mail.example/l/u/T"
    out = rewrite_text_links(text, lambda u: f"<{u}>", own_prefix=OWN)
    assert (
        out
        == "See <https://shop.example/sale>. Or (<https://shop.example/x>), https://mail.example/l/u/T"
    )


def test_the_pixel_goes_before_the_last_closing_body_tag() -> None:
    out = add_open_pixel("<html><body><p>x</p></BODY></html>", "https://m.example/l/o/t.gif")
    assert out.startswith('<html><body><p>x</p><img src="https://m.example/l/o/t.gif"')
    assert out.endswith("</BODY></html>")
    assert add_open_pixel("<p>x</p>", "p.gif").endswith(
        'alt="" style="display:block;width:1px;height:1px;border:0" />'
    )


def test_email_gets_tracking_pixel_and_one_click_unsubscribe_headers() -> None:
    parts = {
        "subject": "s",
        "html": '<body><a href="https://s.example">x</a></body>',
        "text": "https://s.example",
    }
    out = track(
        parts,
        channel="email",
        rewrite=tracked,
        own_prefix=OWN,
        pixel_url="https://mail.example/l/o/p.gif",
        unsubscribe_url="https://mail.example/l/u/U",
    )
    assert "/l/c/" in out["html"]
    assert "/l/o/p.gif" in out["html"]
    assert out["text"] == "https://s.example"  # bare text links only with track_links
    assert out["headers"] == {
        "List-Unsubscribe": "<https://mail.example/l/u/U>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert track(parts, channel="email", rewrite=tracked, own_prefix=OWN, text_links=True)[
        "text"
    ].startswith("https://mail.example/l/c/")


def test_sms_links_are_tracked_only_when_the_template_opts_in() -> None:
    parts = {"text": "Sale: https://s.example/x"}
    assert track(parts, channel="sms", rewrite=tracked, own_prefix=OWN) == parts
    opted = track(parts, channel="sms", rewrite=tracked, own_prefix=OWN, text_links=True)
    assert opted["text"] == "Sale: https://mail.example/l/c/19?to=https://s.example/x"
    assert "headers" not in opted


def test_the_push_url_is_tracked() -> None:
    out = track(
        {"title": "t", "url": "https://s.example/p"},
        channel="web_push",
        rewrite=tracked,
        own_prefix=OWN,
    )
    assert out["url"] == "https://mail.example/l/c/19?to=https://s.example/p"


_ANCHOR = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def _two_step(source: str) -> str:
    """Links rewritten as before one expression read each anchor and its target: the anchor
    found first, then its first quoted ``href`` searched in it."""
    pieces: list[str] = []
    at = 0
    for found in _ANCHOR.finditer(source):
        tag = found.group(0)
        attr = _HREF.search(tag)
        if attr is None or "data-lealta-notrack" in tag.lower():
            continue
        url = html_lib.unescape(attr.group(3)).strip()
        if not url.lower().startswith(("http://", "https://")) or url.startswith(OWN):
            continue
        name, quote = attr.group(1, 2)
        target = html_lib.escape(tracked(url), quote=True)
        pieces += (source[at : found.start()], tag[: attr.start()], name, quote, target, quote)
        pieces.append(tag[attr.end() :])
        at = found.end()
    return "".join([*pieces, source[at:]]) if pieces else source


_FRAGMENTS = st.sampled_from(
    [
        "<a", "<A", " href=", "HREF = ", "xhref=", '"', "'", ">", "<", " ", "\n",
        "https://shop.example/p?a=1&amp;b=2", "http://x.example", " https://s.example ",
        "https://mail.example/l/u/T", "mailto:a@b", "data-lealta-notrack", " title=",
        "<abbr", "</a>", "text", "<a/", "&#104;ttps://e.example", "\u0130", "\u017f",
        '<a href="https://shop.example/x">', "<A title='>' HREF='http://z.example'>",
        "<a title='href=\"https://t.example\"' href=\"https://u.example\">", "<a href=https://bare>",
        '<a data-lealta-notrack href="https://n.example">', '<a href="https://mail.example/l/c/1">',
        '<a href="https://a.example" href="https://b.example">', '<a href=" https://sp.example ">',
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=24).map("".join))
def test_links_are_rewritten_as_the_two_step_reading_did(source: str) -> None:
    assert rewrite_html_links(source, tracked, own_prefix=OWN) == _two_step(source)


def _pixel_at_last_body_end(source: str, pixel_url: str) -> str:
    """The open pixel placed as before it was looked for from the end: every ``</body>``
    found, the last one taken."""
    image = add_open_pixel("", pixel_url)
    ends = list(re.finditer(r"</body\s*>", source, re.IGNORECASE))
    if not ends:
        return source + image
    at = ends[-1].start()
    return source[:at] + image + source[at:]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["</body>", "</BODY >", "</Body\n>", "</body", "</bodyx>", "</p>", "</", "<", ">", "x"]
        ),
        max_size=40,
    ).map("".join)
)
def test_the_pixel_goes_where_the_last_closing_body_tag_is_however_many_tags_follow(
    source: str,
) -> None:
    assert add_open_pixel(source, "https://m.example/o.gif") == _pixel_at_last_body_end(
        source, "https://m.example/o.gif"
    )
    many = source + "</p>" * 20  # more closing tags after it than are looked at one by one
    assert add_open_pixel(many, "p.gif") == _pixel_at_last_body_end(many, "p.gif")
