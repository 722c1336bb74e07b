"""Stored message templates: save (validated, versioned), read, delete, and render for people.

Functions take a session and never commit. :func:`render_for` renders one template for one
contact (previews, one-off sends); :func:`render_many` renders a dispatcher batch with a fixed
number of queries. With an outbox id, the result is ready to send and to measure: links in
HTML (and in text when the template sets ``track_links``) go through signed click redirects
with ``utm_source=lealta``, ``utm_medium=<channel>`` and ``utm_campaign=<template id>``,
e-mail HTML gets the open pixel, and e-mail gets ``headers`` for one-click unsubscribe
(RFC 8058). Without one (a preview), links are left as written and ``links.unsubscribe``
points at the preference page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import OutboxMessage
from lealta.config import Settings
from lealta.errors import InvalidInput, NotFound
from lealta.links import Links
from lealta.messages import catalog, sandbox
from lealta.messages import context as contexts
from lealta.messages.model import TEMPLATE_ID, normalize_channel
from lealta.messages.problems import Problem, RenderError
from lealta.messages.render import render
from lealta.messages.tables import MessageTemplate
from lealta.messages.tracking import track
from lealta.messages.validate import ensure_valid
from lealta.storage.base import utcnow

__all__ = [
    "RenderError",
    "RenderRequest",
    "Saved",
    "delete",
    "get",
    "install",
    "list_",
    "render_for",
    "render_many",
    "save",
]


@dataclass(frozen=True)
class Saved:
    """The outcome of :func:`save`: the row, whether it is new or changed, and warnings."""

    template: MessageTemplate
    created: bool
    changed: bool
    warnings: list[Problem]


@dataclass(frozen=True)
class RenderRequest:
    """One outbox message to render; ``payload`` is read from the outbox row when not given."""

    outbox_id: int
    template_id: str
    contact_id: str
    payload: Mapping[str, Any] | None = None


def _check_id(template_id: str) -> str:
    if not isinstance(template_id, str) or not re.match(TEMPLATE_ID, template_id):
        raise InvalidInput(
            f"{template_id!r} is not a template id (letters, digits, '-', '_', '.', ':'; "
            "at most 200)",
            field="id",
        )
    return template_id


def save(
    session: Session,
    template_id: str,
    channel: str,
    body: Mapping[str, Any],
    description: str = "",
    *,
    now: dt.datetime | None = None,
) -> Saved:
    """Create or replace template ``template_id``; ``version`` goes up when anything changed.

    Raises
    ------
    TemplateInvalid
        When the body has errors (unknown variables, broken syntax …, with part and line).
    InvalidInput
        A bad id, channel or description.
    """
    _check_id(template_id)
    channel = normalize_channel(channel)
    if len(description) > 500:
        raise InvalidInput("description is at most 500 characters", field="description")
    stored, warnings = ensure_valid(channel, body)
    moment = now or utcnow()
    row = session.get(MessageTemplate, template_id)
    if row is None:
        row = MessageTemplate(
            id=template_id,
            channel=channel,
            description=description,
            version=1,
            body=stored,
            created_at=moment,
            updated_at=moment,
        )
        session.add(row)
        session.flush()
        return Saved(row, True, True, warnings)
    changed = (row.channel, row.description, row.body) != (channel, description, stored)
    if changed:
        row.channel, row.description, row.body = channel, description, stored
        row.version += 1
        row.updated_at = moment
        session.flush()
    return Saved(row, False, changed, warnings)


def get(session: Session, template_id: str) -> MessageTemplate:
    """Template ``template_id``; NotFound when there is none."""
    row = session.get(MessageTemplate, template_id)
    if row is None:
        raise NotFound(f"no message template {template_id!r}")
    return row


def list_(session: Session, *, channel: str | None = None) -> list[MessageTemplate]:
    """Templates by id, optionally of one channel."""
    query = select(MessageTemplate).order_by(MessageTemplate.id)
    if channel is not None:
        query = query.where(MessageTemplate.channel == normalize_channel(channel))
    return list(session.scalars(query))


def delete(session: Session, template_id: str) -> None:
    """Delete template ``template_id``; NotFound when there is none. Messages still waiting in
    the outbox for it will fail to render."""
    session.delete(get(session, template_id))
    session.flush()


def install(
    session: Session,
    template_ids: Sequence[str] | None = None,
    *,
    replace: bool = False,
    now: dt.datetime | None = None,
) -> list[Saved | str]:
    """Store the shipped templates ``template_ids`` (every one by default), in that order.

    A template already stored under the same id is kept as it is (the user may have edited
    it), and its id comes back instead of a :class:`Saved`, unless ``replace``.

    Raises
    ------
    NotFound
        When Lealta ships no template of one of the ids.
    """
    wanted = list(template_ids) if template_ids is not None else catalog.shipped_ids()
    documents = [
        doc for name in wanted for doc in catalog.read_documents(catalog.shipped_text(name))
    ]
    done: list[Saved | str] = []
    for doc in documents:
        if not replace and session.get(MessageTemplate, doc["id"]) is not None:
            done.append(doc["id"])
            continue
        done.append(
            save(session, doc["id"], doc["channel"], doc["body"], doc["description"], now=now)
        )
    return done


# -- rendering ----------------------------------------------------------------------------------


def render_for(
    session: Session,
    settings: Settings,
    *,
    template_id: str,
    contact_id: str,
    outbox_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    strict: bool = False,
    language: str | None = None,
) -> dict[str, Any]:
    """Template ``template_id`` rendered for ``contact_id`` (tracked when ``outbox_id``).

    Without ``payload``, the outbox row's payload is used (when ``outbox_id`` is given).

    Raises
    ------
    NotFound
        No such template or live contact.
    RenderError
        The template failed to render (part and line named).
    """
    template = get(session, template_id)
    return render_body(
        session,
        settings,
        channel=template.channel,
        body=template.body,
        template_id=template.id,
        contact_id=contact_id,
        outbox_id=outbox_id,
        payload=payload,
        now=now,
        strict=strict,
        language=language,
    )


def render_body(
    session: Session,
    settings: Settings,
    *,
    channel: str,
    body: Mapping[str, Any],
    template_id: str,
    contact_id: str | None,
    outbox_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    strict: bool = False,
    language: str | None = None,
) -> dict[str, Any]:
    """A (possibly unsaved) ``body`` rendered for ``contact_id``, or for nobody (``None``: an
    empty contact, to see the fallbacks). See :func:`render_for`."""
    moment = now or utcnow()
    if outbox_id is not None and payload is None:
        row = session.get(OutboxMessage, outbox_id)
        payload = row.payload if row is not None else None
    base: dict[str, Any] = {"contact": {}, "purchases": [], "vouchers": [], "now": moment}
    if contact_id is not None:
        found = contexts.contexts_for(session, [contact_id], moment).get(contact_id)
        if found is None:
            raise NotFound(f"no live contact {contact_id!r}")
        base = found
    request = _Job(outbox_id, template_id, contact_id or "", payload)
    batch = _Batch(session, settings, [request])
    return batch.render(request, normalize_channel(channel), body, base, strict, language)


def render_many(
    session: Session,
    settings: Settings,
    items: Sequence[RenderRequest],
    *,
    now: dt.datetime | None = None,
) -> dict[int, dict[str, Any] | RenderError]:
    """Each item rendered and tracked, by outbox id; a :class:`RenderError` for those that
    cannot be (``kind`` ``missing_template``, ``no_contact``, or what rendering met).

    About ten queries for the whole batch.
    """
    moment = now or utcnow()
    missing = [i.outbox_id for i in items if i.payload is None]
    stored: dict[int, Any] = {}
    if missing:
        query = select(OutboxMessage.id, OutboxMessage.payload)
        stored = {
            r.id: r.payload for r in session.execute(query.where(OutboxMessage.id.in_(missing)))
        }
    jobs = [
        _Job(
            i.outbox_id,
            i.template_id,
            i.contact_id,
            i.payload if i.payload is not None else stored.get(i.outbox_id),
        )
        for i in items
    ]
    ids = sorted({i.template_id for i in items})
    templates = {
        t.id: t for t in session.scalars(select(MessageTemplate).where(MessageTemplate.id.in_(ids)))
    }
    reads = _names_read([t.body for t in templates.values()], jobs)
    bases = contexts.contexts_for(session, [i.contact_id for i in items], moment, reads=reads)
    batch = _Batch(session, settings, jobs)
    results: dict[int, dict[str, Any] | RenderError] = {}
    for item, job in zip(items, jobs, strict=True):
        template = templates.get(job.template_id)
        if template is None:
            results[item.outbox_id] = RenderError(
                f"no message template {job.template_id!r}", kind="missing_template"
            )
        elif job.contact_id not in bases:
            results[item.outbox_id] = RenderError(
                f"no live contact {job.contact_id!r}", kind="no_contact"
            )
        else:
            try:
                results[item.outbox_id] = batch.render(
                    job, template.channel, template.body, bases[job.contact_id], False, None
                )
            except InvalidInput as exc:  # a RenderError, or a link that cannot be tracked
                results[item.outbox_id] = (
                    exc
                    if isinstance(exc, RenderError)
                    else RenderError(str(exc), kind="render", part=exc.field)
                )
    return results


def _names_read(bodies: Sequence[Mapping[str, Any]], jobs: Sequence[_Job]) -> set[str] | None:
    """The names the templates ``bodies`` and the payloads of ``jobs`` (what of them is
    rendered: see :func:`lealta.messages.context.message_context`) may read from a context;
    ``None`` when one of their strings does not parse (it is rendered with every key, and
    fails as it always did)."""
    found: set[str] = set()
    for body in bodies:
        if not _add_names(found, body):
            return None
    for job in jobs:
        payload = job.payload or {}
        authored = [v for k, v in payload.items() if k not in contexts.DATA_KEYS]
        if authored and not _add_names(found, authored):
            return None
    return found


def _add_names(found: set[str], value: Any) -> bool:
    """Add the names the template strings in ``value`` read to ``found``; False when one
    does not parse."""
    if isinstance(value, str):
        if "{" not in value:  # no tag: written as it is
            return True
        names = sandbox.names_read(value)
        if names is None:
            return False
        found.update(names)
        return True
    if isinstance(value, Mapping):
        return all(_add_names(found, v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_add_names(found, v) for v in value)
    return True


_UNSEEN: Any = object()  # a target not looked at yet


@dataclass(frozen=True)
class _Job:
    outbox_id: int | None
    template_id: str
    contact_id: str
    payload: Mapping[str, Any] | None


class _Batch:
    """What the messages of one batch share: links, shop and the vouchers they name."""

    def __init__(self, session: Session, settings: Settings, jobs: Sequence[_Job]) -> None:
        self.links = Links(settings.secret_key, settings.base_url)
        self.own_prefix = f"{self.links.base_url}/l/"
        name, address = parseaddr(settings.email_from)
        self.shop = {"name": name, "email": address, "url": settings.public_url}
        codes = [code for j in jobs for code in contexts.voucher_codes(j.payload)]
        self.vouchers = contexts.vouchers_by_code(session, codes)
        # what click links sign of each target, by channel and template (None: not http(s))
        self.targets: dict[tuple[str, str], dict[str, bytes | None]] = {}

    def render(
        self,
        job: _Job,
        channel: str,
        body: Mapping[str, Any],
        base: Mapping[str, Any],
        strict: bool,
        language: str | None,
    ) -> dict[str, Any]:
        links = self._links(job, base)
        context = contexts.message_context(
            base, payload=job.payload, vouchers=self.vouchers, links=links, shop=self.shop
        )
        parts = render(body, context, language=language, channel=channel, strict=strict)
        if job.outbox_id is None:
            return parts
        outbox_id = job.outbox_id
        utm = {"source": "lealta", "medium": channel, "campaign": job.template_id}
        targets = self.targets.setdefault((channel, job.template_id), {})

        def rewrite(url: str) -> str:
            if type(outbox_id) is not int:
                try:
                    return self.links.click(outbox_id, url, utm=utm)
                except InvalidInput:  # "http://" and the like: left as written
                    return url
            target = targets.get(url, _UNSEEN)
            if target is _UNSEEN:
                try:
                    target = self.links.click_target(url, utm=utm)
                except InvalidInput:  # "http://" and the like: left as written
                    target = None
                targets[url] = target
            return url if target is None else self.links.click_for(outbox_id, target)

        return track(
            parts,
            channel=channel,
            rewrite=rewrite,
            own_prefix=self.own_prefix,
            pixel_url=self.links.open_pixel(outbox_id),
            unsubscribe_url=links["unsubscribe"],  # signed once, in _links
            text_links=bool(body.get("track_links")),
        )

    def _links(self, job: _Job, base: Mapping[str, Any]) -> dict[str, Any]:
        contact = base.get("contact") or {}
        contact_id = contact.get("id") if isinstance(contact, Mapping) else None
        preferences = self.links.preferences(contact_id) if contact_id else ""
        outbox_id = job.outbox_id
        if outbox_id is None:
            return {
                "unsubscribe": preferences,
                "preferences": preferences,
                "survey": lambda score, survey="nps": f"#survey-{survey}-{score}",
            }

        def survey(score: int, survey: str = "nps") -> str:
            try:
                return self.links.survey(outbox_id, int(score), survey=str(survey)[:50])
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"links.survey needs a score from 0 to 10, got {score!r}", field="survey"
                ) from None

        return {
            "unsubscribe": self.links.unsubscribe(outbox_id),
            "preferences": preferences,
            "survey": survey,
        }
