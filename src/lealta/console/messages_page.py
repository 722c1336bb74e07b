"""The message templates' pages: the list (with who uses each and how it did over 30 days), the
editor's fields and languages built from a template body and back from a posted form, and the
preview of a draft rendered exactly as it will be sent (its tracked links decoded)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.automations.definition import load_definition
from lealta.automations.service import templates_used
from lealta.automations.tables import Workflow, WorkflowVersion
from lealta.bootstrap import Services
from lealta.console.messages_preview import contact_choice, preview_of
from lealta.console.reports_page import period_from, report_figures
from lealta.errors import InvalidInput, LealtaError
from lealta.messages import service
from lealta.messages.model import CHANNELS, TEMPLATE_ID, normalize_language
from lealta.messages.problems import Problem
from lealta.messages.testsend import Draft, sample_contact

DAYS = 30
CHANNEL_WORDS = {
    "email": "E-mail",
    "sms": "SMS",
    "push": "App push",
    "web_push": "Browser push",
    "onsite": "On-site",
    "webhook": "Webhook",
}
LANGUAGE_NAMES = {
    "en": "English", "it": "Italiano", "es": "Español", "de": "Deutsch", "fr": "Français",
    "pt": "Português", "nl": "Nederlands", "ca": "Català", "pl": "Polski", "sv": "Svenska",
}  # fmt: skip
DEFAULT = "default"


@dataclass(frozen=True)
class Part:
    """One editable part of a channel: its name in the body, label, widget and help."""

    name: str
    label: str
    widget: str  # "line", "text" (plain text area) or "code" (HTML, MJML, JSON)
    help: str = ""


_MARKUP = Part("markup", "Body", "code", "The HTML or MJML of the e-mail.")
PARTS: dict[str, tuple[Part, ...]] = {
    "email": (
        Part("subject", "Subject", "line", "The first thing people read in their inbox."),
        Part("preheader", "Preheader", "line", "Shown after the subject in most inboxes."),
        _MARKUP,
        Part("text", "Text part", "text", "For mail apps without HTML; made from the body "
             "when left empty."),
    ),
    "sms": (Part("text", "SMS text", "text", "Keep it under 160 characters: one SMS."),),
    "push": (
        Part("title", "Push title", "line"),
        Part("body", "Push text", "text"),
        Part("url", "Opens", "line", "The page the notification opens when tapped."),
        Part("icon", "Icon", "line", "The address of the icon image."),
    ),
    "onsite": (Part("html", "HTML", "code", "The block shown on the shop's pages."),),
    "webhook": (
        Part("url", "URL", "line", "Where the call goes (POST)."),
        Part("body", "JSON body", "code", "Strings in it are templates."),
    ),
}  # fmt: skip
PARTS["web_push"] = PARTS["push"]


# -- the list ------------------------------------------------------------------------------


def reports_link(template_id: str) -> str:
    """The campaign report of one template over the last 30 days."""
    return "/reports?" + urlencode({"by": "template", "template": template_id, "period": DAYS})


def used_by(session: Session) -> dict[str, list[dict[str, str]]]:
    """Template id → the journeys whose current version sends it (``id``, ``name``,
    ``status``, ``href``). One query for every workflow."""
    rows = session.execute(
        select(Workflow.id, Workflow.name, Workflow.status, WorkflowVersion.definition)
        .join(
            WorkflowVersion,
            (WorkflowVersion.workflow_id == Workflow.id)
            & (WorkflowVersion.version == Workflow.current_version),
        )
        .order_by(Workflow.name, Workflow.id)
    )
    found: dict[str, list[dict[str, str]]] = {}
    for workflow_id, name, status, definition in rows:
        try:
            used = templates_used(load_definition(definition))
        except LealtaError:
            continue  # an unreadable stored definition names no template
        for template_id in used:
            found.setdefault(template_id, []).append(
                {
                    "id": workflow_id,
                    "name": name,
                    "status": status,
                    "href": f"/journeys/{workflow_id}",
                }
            )
    return found


def languages_of(body: Mapping[str, Any]) -> list[str]:
    """The language variants of a body, in their order."""
    return list((body.get("variants") or {}).keys())


def list_context(services: Services, query: Mapping[str, str]) -> dict[str, Any]:
    """Everything ``messages.html`` shows: templates matching ``q`` (in the id or the
    description), each with its journeys and its last 30 days."""
    q = (query.get("q") or "").strip()
    # the figures of the report each row links to (the same summary when that is large)
    period = period_from({"period": str(DAYS)}, now=services.clock.now())
    figures = report_figures(services).read((period.start, period.end, "template", None))
    stats = {s.key["template"]: s for s in figures["rows"]}
    with services.uow.transaction() as session:
        rows = service.list_(session)
        journeys = used_by(session)
        templates = []
        for row in rows:
            if q and q.casefold() not in f"{row.id} {row.description}".casefold():
                continue
            found = stats.get(row.id)
            rates = found.rates() if found else {}
            templates.append(
                {
                    "id": row.id,
                    "href": f"/messages/{row.id}",
                    "channel": CHANNEL_WORDS.get(row.channel, row.channel),
                    "description": row.description,
                    "languages": languages_of(row.body),
                    "updated_at": row.updated_at,
                    "version": row.version,
                    "journeys": journeys.get(row.id, []),
                    "sent": found.sent if found else 0,
                    "open_rate": rates.get("open_rate"),
                    "click_rate": rates.get("click_rate"),
                    "report_href": reports_link(row.id),
                }
            )
    return {
        "templates": templates,
        "total": len(rows),
        "q": q,
        "days": DAYS,
        "channels": [(c, CHANNEL_WORDS[c]) for c in CHANNELS],
    }


# -- the editor: body ⇄ form -----------------------------------------------------------------


def field_id(language: str, name: str) -> str:
    """The HTML id of a part's field (``f-default-subject``, ``f-it-markup``)."""
    return f"f-{language}-{name}"


def field_name(language: str, name: str) -> str:
    """The form name of a part's field (``part:default:subject``)."""
    return f"part:{language}:{name}"


def where(part: str) -> tuple[str, str]:
    """The (language, field) a problem's ``part`` is about: ``variants.it.html`` →
    ``("it", "markup")``, ``body.items`` → ``("default", "body")``."""
    language = DEFAULT
    if part.startswith("variants."):
        rest = part.removeprefix("variants.")
        code, _, part = rest.partition(".")
        language = code
    name = re.split(r"[.\[]", part, maxsplit=1)[0] if part else ""
    return language, ("markup" if name in ("html", "mjml") else name)


def _source(parts: Mapping[str, Any], name: str, channel: str) -> str:
    if name == "markup":
        return str(parts.get("mjml") or parts.get("html") or "")
    value = parts.get(name)
    if channel == "webhook" and name == "body" and value is not None:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return "" if value is None else str(value)


@dataclass
class Field:
    """A part's field as the editor shows it."""

    part: Part
    id: str
    name: str
    value: str
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Language:
    """One tab of the editor: the default parts, or a language variant."""

    code: str
    label: str
    format: str  # "html" or "mjml" (e-mail only)
    fields: list[Field]

    @property
    def has_problems(self) -> bool:
        return any(f.problems for f in self.fields)


def language_label(code: str) -> str:
    """``it · Italiano``; the default parts are what everyone else gets."""
    if code == DEFAULT:
        return "Default"
    name = LANGUAGE_NAMES.get(normalize_language(code).split("-")[0])
    return f"{code} · {name}" if name else code


def languages(
    channel: str, body: Mapping[str, Any], problems: Iterable[Problem] = ()
) -> list[Language]:
    """The editor's tabs for ``body``, with each problem placed on its field."""
    placed: dict[tuple[str, str], list[Problem]] = {}
    for problem in problems:
        placed.setdefault(where(problem.part), []).append(problem)
    tabs = [
        (DEFAULT, body),
        *((code, parts) for code, parts in (body.get("variants") or {}).items()),
    ]
    out = []
    for code, parts in tabs:
        fields = [
            Field(
                part,
                field_id(code, part.name),
                field_name(code, part.name),
                _source(parts, part.name, channel),
                placed.get((code, part.name), []),
            )
            for part in PARTS.get(channel, ())
        ]
        markup = "mjml" if parts.get("mjml") is not None else "html"
        out.append(Language(code, language_label(code), markup, fields))
    return out


def _value(form: Mapping[str, str], language: str, name: str) -> str | None:
    text = form.get(field_name(language, name), "")
    return text if text.strip() else None


def _parts_from(
    form: Mapping[str, str], channel: str, language: str, kept: Mapping[str, Any]
) -> dict[str, Any]:
    """One tab's parts: what was typed (blank parts left out), over the parts the editor does
    not show (push ``data`` …)."""
    shown = {p.name for p in PARTS.get(channel, ())} | {"html", "mjml"}
    parts = {k: v for k, v in kept.items() if k not in shown and k != "variants"}
    for part in PARTS.get(channel, ()):
        value = _value(form, language, part.name)
        if value is None:
            continue
        if part.name == "markup":
            markup = form.get(f"format:{language}", "html")
            parts["mjml" if markup == "mjml" else "html"] = value
        elif channel == "webhook" and part.name == "body":
            try:
                parts["body"] = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                where_ = "body" if language == DEFAULT else f"variants.{language}.body"
                raise InvalidInput(f"{where_}: not valid JSON ({exc})", field=where_) from None
        else:
            parts[part.name] = value
    return parts


def body_from_form(
    channel: str, form: Mapping[str, str], codes: Iterable[str], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """The body the editor's form describes: the default parts, each language in ``codes``
    (a language left without any text is dropped), ``track_links``, and what the editor does
    not show kept from ``stored``.

    Raises ``InvalidInput`` (a webhook body that is not JSON)."""
    body = _parts_from(form, channel, DEFAULT, stored)
    if form.get("track_links"):
        body["track_links"] = True
    else:
        body.pop("track_links", None)
    old = stored.get("variants") or {}
    variants = {}
    for code in codes:
        parts = _parts_from(form, channel, code, old.get(code) or {})
        if parts:
            variants[code] = parts
    if variants:
        body["variants"] = variants
    return body


def posted_languages(form: Mapping[str, str], codes: list[str]) -> tuple[list[str], str | None]:
    """The languages after the form's ``action`` (``add`` the typed ``new_language``,
    ``remove:<code>``), and a problem with the new code if any."""
    action = form.get("action", "")
    if action.startswith("remove:"):
        gone = action.removeprefix("remove:")
        return [c for c in codes if c != gone], None
    if action == "add":
        code = form.get("new_language", "").strip()
        if not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*", code):
            return codes, f"{code!r} is not a language code such as 'de' or 'pt-BR'"
        if normalize_language(code) in {normalize_language(c) for c in codes}:
            return codes, f"there is already a {code} version"
        return [*codes, code], None
    return codes, None


def new_template_problem(template_id: str, channel: str) -> str | None:
    """What is wrong with a new template's name or channel, if anything."""
    if not re.match(TEMPLATE_ID, template_id):
        return (
            "the name must start with a letter or digit and use only letters, digits, "
            "'-', '_', '.' or ':' (at most 200)"
        )
    if channel not in PARTS:
        return f"choose a channel: {', '.join(CHANNELS)}"
    return None


def editor_context(
    services: Services,
    *,
    template_id: str,
    channel: str,
    description: str,
    body: Mapping[str, Any],
    problems: Iterable[Problem] = (),
    contact_id: str | None = None,
    language: str | None = None,
    is_new: bool = False,
    version: int | None = None,
    updated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Everything ``message.html`` shows: the tabs and fields, problems, who uses the template,
    the contact the preview is for and the preview itself."""
    found = list(problems)
    with services.uow.transaction() as session:
        journeys = [] if is_new else used_by(session).get(template_id, [])
        chosen = contact_id or sample_contact(session)
        contact = contact_choice(session, chosen) if chosen else None
    draft = Draft(template_id, channel, body, contact["id"] if contact else None, language)
    preview = (
        None if any(p.severity == "error" for p in found) or is_new else preview_of(services, draft)
    )
    codes = languages_of(body)
    return {
        "template_id": template_id,
        "channel": channel,
        "channel_word": CHANNEL_WORDS.get(channel, channel),
        "description": description,
        "tabs": languages(channel, body, found),
        "problems": found,
        "errors": [p for p in found if p.severity == "error"],
        "warnings": [p for p in found if p.severity == "warning"],
        "track_links": bool(body.get("track_links")),
        "journeys": journeys,
        "contact": contact,
        "language": language or "",
        "language_choices": [(c, language_label(c)) for c in codes],
        "default_language": default_language(codes),
        "preview": preview,
        "frame_src": frame_src(template_id, contact["id"] if contact else None, language),
        "is_new": is_new,
        "template_version": version,
        "updated_at": updated_at,
        "report_href": reports_link(template_id),
        "problem_href": {p: f"#{field_id(*where(p.part))}" for p in found},
    }


def default_language(codes: Iterable[str]) -> str:
    """A language code that picks the default parts: English, unless a variant is English
    (then ``und``, "undetermined", which no variant matches)."""
    english = any(normalize_language(c).split("-")[0] == "en" for c in codes)
    return "und" if english else "en"


def frame_src(template_id: str, contact_id: str | None, language: str | None) -> str:
    """The preview frame of the stored template for a contact and language."""
    query = {k: v for k, v in (("contact", contact_id), ("language", language)) if v}
    return f"/messages/{template_id}/frame" + (f"?{urlencode(query)}" if query else "")
