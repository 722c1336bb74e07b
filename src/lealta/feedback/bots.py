"""Telling a person following a link from a machine fetching it. Pure.

Mail security gateways open every link of an incoming message to check it, chat apps fetch
links to draw a preview, and browsers prefetch. Such requests still get the normal answer
(the redirect, the page, the pixel), but record nothing: otherwise every message a gateway
scans would count as clicked and every survey link in it as answered. No request made with
``GET`` or ``HEAD`` ever unsubscribes anybody, whoever makes it; that needs a ``POST``.

The list is of well-known scanners and previewers; it cannot be complete. Image proxies that
load the open pixel for the reader (Gmail's, Apple's) are not in it: their load is an open.
"""

from __future__ import annotations

from collections.abc import Mapping

# Lower-case fragments of User-Agent headers sent by link scanners and preview fetchers.
SCANNER_AGENTS = (
    "barracuda",
    "bingpreview",
    "discordbot",
    "facebookexternalhit",
    "google-safety",
    "linkedinbot",
    "mimecast",
    "ms office existence discovery",
    "proofpoint",
    "skypeuripreview",
    "slackbot",
    "symantec",
    "telegrambot",
    "trendmicro",
    "twitterbot",
    "urlscan",
    "whatsapp",
)
_PREFETCH_HEADERS = ("purpose", "sec-purpose", "x-purpose", "x-moz")


def is_machine(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request is a prefetch, a preview or a scan rather than a person.

    ``headers`` are looked up by lower-case name (as Starlette's ``Headers`` allow).

    >>> is_machine("HEAD", {})
    True
    >>> is_machine("GET", {"user-agent": "Mozilla/5.0 (compatible; Mimecast)"})
    True
    >>> is_machine("GET", {"user-agent": "Mozilla/5.0 (iPhone) Safari/604.1"})
    False
    """
    if method.upper() == "HEAD":
        return True
    for name in _PREFETCH_HEADERS:
        value = (headers.get(name) or "").lower()
        if "prefetch" in value or "preview" in value:
            return True
    agent = (headers.get("user-agent") or "").lower()
    return any(fragment in agent for fragment in SCANNER_AGENTS)
