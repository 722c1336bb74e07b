"""Making a rendered message measurable: tracked links, the open pixel, unsubscribe headers.
Pure: the signing is handed in as ``rewrite`` (a function of the target URL).

Only ``http``/``https`` links are rewritten; ``mailto:``, ``tel:``, anchors and links that
already point at Lealta (``/l/…``: unsubscribe, preferences, surveys) are left alone, as is
any ``<a>`` marked ``data-lealta-notrack``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

Rewrite = Callable[[str], str]

# An <a> start tag and its first quoted href (the value ends at the tag's end: ">" ends it).
_LINK = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])([^>]*?)\1[^>]*>""", re.IGNORECASE)
_BARE_URL = re.compile(r"""https?://[^\s<>"'{}|\\^`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?)]'\""
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def _trackable(url: str, own_prefix: str) -> bool:
    lowered = url.lower()
    return lowered.startswith(("http://", "https://")) and not url.startswith(own_prefix)


def rewrite_html_links(source: str, rewrite: Rewrite, *, own_prefix: str) -> str:
    """``source`` with every ``<a href="http(s)://…">`` pointing at ``rewrite(url)``."""
    pieces: list[str] = []
    at = 0
    for found in _LINK.finditer(source):
        url = found.group(2)
        url = (html.unescape(url) if "&" in url else url).strip()
        if not _trackable(url, own_prefix) or "data-lealta-notrack" in found.group().lower():
            continue
        start, end = found.span(2)
        pieces += (source[at:start], _attribute_value(rewrite(url)))
        at = end
    if not pieces:
        return source
    pieces.append(source[at:])
    return "".join(pieces)


def _attribute_value(url: str) -> str:
    """``url`` escaped for a quoted attribute (a signed link seldom needs it)."""
    if "&" in url or '"' in url or "'" in url or "<" in url or ">" in url:
        return html.escape(url, quote=True)
    return url


def rewrite_text_links(text: str, rewrite: Rewrite, *, own_prefix: str) -> str:
    """``text`` with every bare ``http(s)://`` URL replaced by ``rewrite(url)`` (trailing
    punctuation stays outside the link)."""

    def bare(found: re.Match[str]) -> str:
        url = found.group(0)
        stripped = url.rstrip(_TRAILING)
        tail = url[len(stripped) :]
        if not _trackable(stripped, own_prefix):
            return url
        return rewrite(stripped) + tail

    return _BARE_URL.sub(bare, text)


def add_open_pixel(source: str, pixel_url: str) -> str:
    """``source`` with a 1x1 image loading ``pixel_url`` just before ``</body>`` (at the end
    when there is none)."""
    image = (
        f'<img src="{html.escape(pixel_url, quote=True)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0" />'
    )
    at = _last_body_end(source)
    if at is None:
        return source + image
    return source[:at] + image + source[at:]


def _last_body_end(source: str) -> int | None:
    """Where the last ``</body>`` (any case, spaces before ``>``) starts: looked for from the
    end, where it nearly always is, among the last few closing tags."""
    end = len(source)
    for _ in range(8):
        end = source.rfind("</", 0, end)
        if end < 0:
            return None
        if _BODY_END.match(source, end):
            return end
    ends = list(_BODY_END.finditer(source, 0, end))
    return ends[-1].start() if ends else None


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers for one-click unsubscribe."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def track(
    parts: Mapping[str, Any],
    *,
    channel: str,
    rewrite: Rewrite,
    own_prefix: str,
    pixel_url: str | None = None,
    unsubscribe_url: str | None = None,
    text_links: bool = False,
) -> dict[str, Any]:
    """Rendered ``parts`` made measurable for ``channel``: links in HTML always, the push
    ``url``, bare URLs in text parts when ``text_links``; for e-mail the open pixel and the
    unsubscribe headers."""
    out = dict(parts)
    if isinstance(out.get("html"), str):
        out["html"] = rewrite_html_links(out["html"], rewrite, own_prefix=own_prefix)
    if text_links and isinstance(out.get("text"), str):
        out["text"] = rewrite_text_links(out["text"], rewrite, own_prefix=own_prefix)
    url = out.get("url")
    if channel in ("push", "web_push") and isinstance(url, str) and _trackable(url, own_prefix):
        out["url"] = rewrite(url)
    if channel == "email":
        if pixel_url and isinstance(out.get("html"), str):
            out["html"] = add_open_pixel(out["html"], pixel_url)
        if unsubscribe_url:
            out["headers"] = {**out.get("headers", {}), **unsubscribe_headers(unsubscribe_url)}
    return out
