"""The preview of a message template in the console: the contact it is rendered for (chosen
by a search, or a sample), the draft rendered exactly as it will be sent with its links
decoded (tracked, unsubscribe, preferences), and the framed document with its strict policy."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.channels.sms_text import measure
from lealta.contacts.profiles import identifiers_by_kind
from lealta.contacts.search import ContactFilter, search
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput, LealtaError
from lealta.links import Links
from lealta.messages.problems import Problem, RenderError, TemplateInvalid
from lealta.messages.testsend import Draft, as_sent


def problems_of(error: LealtaError) -> list[Problem]:
    """The problems an error carries (all of a ``TemplateInvalid``, else one)."""
    if isinstance(error, TemplateInvalid):
        return list(error.problems)
    if isinstance(error, InvalidInput):
        part = error.field or "body"
        line = error.line
        text = str(error)
        for prefix in (f"{part} line {line}: ", f"{part}: "):
            text = text.removeprefix(prefix)
        return [Problem("error", part, text, line)]
    return [Problem("error", "body", str(error))]


# -- contacts to preview for ---------------------------------------------------------------


def _choices(session: Session, rows: list[Contact]) -> list[dict[str, str]]:
    emails = identifiers_by_kind(session, [r.id for r in rows])
    out = []
    for row in rows:
        attributes = row.attributes or {}
        name = str(attributes.get("name") or "") or " ".join(
            str(attributes[k]) for k in ("first_name", "last_name") if attributes.get(k)
        )
        email = (emails.get(row.id, {}).get("email") or [""])[0]
        label = f"{name} <{email}>" if name and email else name or email or row.id
        out.append({"id": row.id, "label": label, "href": f"/contacts/{row.id}"})
    return out


def contact_choice(session: Session, contact_id: str) -> dict[str, str] | None:
    row = session.get(Contact, contact_id)
    if row is None or row.erased_at is not None:
        return None
    return _choices(session, [row])[0]


def contact_choices(services: Services, q: str, current: str | None) -> list[dict[str, str]]:
    """Up to 8 contacts matching ``q`` (as the contact list's search), the current first."""
    with services.uow.transaction() as session:
        chosen = contact_choice(session, current) if current else None
        found: list[dict[str, str]] = []
        if q.strip():
            rows, _ = search(
                session,
                ContactFilter(q=q.strip()),
                limit=8,
                region=services.settings.default_phone_region,
            )
            found = _choices(session, rows)
    out = [chosen] if chosen else []
    return out + [c for c in found if not chosen or c["id"] != chosen["id"]]


# -- the preview ---------------------------------------------------------------------------

_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"""\bhref\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_URL = re.compile(r"""https?://[^\s<>"']+""")
_KINDS = {"c": "click", "u": "unsub", "p": "prefs", "s": "survey", "o": "open"}


def _plain(fragment: str) -> str:
    return " ".join(html_lib.unescape(_TAGS.sub(" ", fragment)).split())


def decode_link(links: Links, url: str) -> dict[str, str]:
    """What a link in a rendered message is: ``kind`` (``tracked``, ``unsubscribe``,
    ``preferences``, ``survey``, ``not tracked``) and, for a tracked one, where it leads."""
    prefix = f"{links.base_url}/l/"
    if not url.startswith(prefix):
        return {"kind": "not tracked", "url": url, "target": url}
    letter, _, token = url.removeprefix(prefix).partition("/")
    kind = _KINDS.get(letter, "")
    try:
        claims = links.read(token, kind) if kind else None
    except InvalidInput:
        claims = None
    if claims is None:
        return {"kind": "not tracked", "url": url, "target": url}
    words = {"click": "tracked", "unsub": "unsubscribe", "prefs": "preferences"}
    target = claims.url if kind == "click" and claims.url else ""
    return {"kind": words.get(kind, kind), "url": url, "target": target}


def tracked_links(links: Links, parts: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every link of the rendered ``parts`` with its text, what it is and where it leads."""
    found: list[dict[str, str]] = []
    for attributes, text in _ANCHOR.findall(str(parts.get("html") or "")):
        href = _HREF.search(attributes)
        if href:
            url = html_lib.unescape(href.group(2)).strip()
            found.append({"text": _plain(text) or "(image or empty link)", "where": "body",
                          **decode_link(links, url)})  # fmt: skip
    for name in ("text", "url", "body"):
        value = parts.get(name)
        if isinstance(value, str):
            for url in _URL.findall(value):
                url = url.rstrip(".,;:!?)]'\"")
                found.append({"text": url, "where": name, **decode_link(links, url)})
    return found


def preview_of(services: Services, draft: Draft) -> dict[str, Any]:
    """``draft`` rendered for its contact as it will be sent: the parts, the links with what
    they are, the open pixel and the unsubscribe headers; or the problem that stopped it."""
    settings = services.settings
    links = Links(settings.secret_key, settings.base_url)
    with services.uow.transaction() as session:
        try:
            parts = as_sent(session, settings, draft, now=services.clock.now())
        except RenderError as exc:
            return {"problems": problems_of(exc), "parts": {}}
        except LealtaError as exc:
            return {"problems": [Problem("error", "contact", str(exc))], "parts": {}}
    headers = dict(parts.get("headers") or {})
    pixel = re.search(r"""<img src="([^"]*/l/o/[^"]*)"[^>]*>""", str(parts.get("html") or ""))
    text = str(parts.get("text") or "")
    return {
        "problems": [],
        "parts": parts,
        "channel": draft.channel,
        "links": tracked_links(links, parts),
        "pixel": html_lib.unescape(pixel.group(1)) if pixel else "",
        # The frame leaves the (invisible) pixel out: loading it would only ask Lealta to
        # record an open of no message. It is listed under the preview instead.
        "pixel_tag": pixel.group(0) if pixel else "",
        "unsubscribe_header": headers.get("List-Unsubscribe", ""),
        "sms": measure(text) if draft.channel == "sms" else None,
        "webhook_body": (
            orjson.dumps(parts.get("body"), option=orjson.OPT_INDENT_2).decode()
            if draft.channel == "webhook"
            else ""
        ),
        "from": settings.email_from,
    }


FRAME_HEADERS = {
    # The message's own HTML, shown as it will arrive: its styles, its images, never a script,
    # a form or a way out of the frame; and only the console may frame it.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; "
        "font-src http: https: data:; form-action 'none'; base-uri 'none'; "
        "frame-ancestors 'self'; sandbox"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def frame_html(preview: Mapping[str, Any] | None) -> str:
    """The document the preview frame shows: the e-mail's (or on-site block's) HTML, or a
    short note when there is none to show."""
    parts = (preview or {}).get("parts") or {}
    if isinstance(parts.get("html"), str) and parts["html"].strip():
        pixel = (preview or {}).get("pixel_tag") or ""
        return str(parts["html"]).replace(pixel, "") if pixel else str(parts["html"])
    problems = (preview or {}).get("problems") or []
    note = (
        f"Cannot show this message yet: {problems[0]}"
        if problems
        else "This channel has no HTML: its texts are shown below the preview."
    )
    return (
        "<!doctype html><meta charset='utf-8'><body style='font:15px system-ui,sans-serif;"
        f"color:#374151;padding:16px'>{html_lib.escape(note)}</body>"
    )
