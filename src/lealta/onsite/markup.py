"""Routing the links of a placement's HTML through tracked click URLs. Pure.

Only ``href`` attributes of ``<a>`` and ``<area>`` elements are touched. Links are resolved
against the page the slot is on (so ``/sale`` works in a banner), and only ``http``/``https``
targets are tracked: ``mailto:``, ``tel:``, ``javascript:`` and in-page ``#anchors`` stay as
written. The rest of the markup is left byte for byte.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

_LINK = re.compile(
    r"""(?P<head><(?:a|area)\b[^>]*?\shref\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>"']+))""",
    re.IGNORECASE,
)


def tracked_links(markup: str, track: Callable[[str], str], *, page_url: str | None) -> str:
    """``markup`` with each trackable link's target ``url`` replaced by ``track(url)``."""

    def replace(match: re.Match[str]) -> str:
        written = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
        target = trackable(html.unescape(written), page_url)
        if target is None:
            return match.group(0)
        return f'{match["head"]}"{html.escape(track(target), quote=True)}"'

    return _LINK.sub(replace, markup)


def trackable(href: str, page_url: str | None) -> str | None:
    """The absolute ``http(s)`` URL ``href`` leads to from ``page_url``; ``None`` if none."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    base = page_url if page_url and urlsplit(page_url).scheme in ("http", "https") else None
    target = urljoin(base, href) if base else href
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return target
