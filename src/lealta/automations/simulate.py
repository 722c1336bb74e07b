"""Trying a workflow on one real contact before switching it on: nothing written, nothing sent.

The contact is read as the runner reads it (:func:`lealta.conditions.views.contact_views`:
profile, tags, lists, consent, RFM, the last 400 days of events); the marketer's planned
events are laid on a time line from now; the real engine (:func:`lealta.automations.engine.
simulate`) runs the workflow with a simulated clock. What it decides is described day by day:
the steps reached, the branches taken, the messages (rendered for the contact by
:func:`lealta.messages.service.render_for`, as they would be sent), the vouchers (a code is made
up for the preview and never stored) and where the run ends.

Planned events, each on a day counted from the start (day 0; fractions allowed):

* ``opened`` / ``clicked``: the contact opens / clicks an e-mail: ``template`` names which; when
  omitted, the newest e-mail the simulation sent them before that moment (an ``Email Opened`` /
  ``Email Clicked`` event carrying ``template``, as tracking records it);
* ``bought``: an ``Order Completed`` event of ``amount`` in ``currency`` (default EUR);
* ``event``: any other event, named ``name``.

Only reads happen here; the caller's transaction may be rolled back (the REST route and the
console do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.automations import engine
from lealta.automations import wording as words
from lealta.automations.definition import WorkflowDefinition
from lealta.automations.needs import event_names
from lealta.conditions import MESSAGE_EVENTS, ORDER_COMPLETED, ContactView, EventView
from lealta.conditions.views import contact_views
from lealta.config import Settings
from lealta.contacts.tables import Contact, Identifier
from lealta.errors import InvalidInput, LealtaError, NotFound
from lealta.identity.normalize import normalize_email
from lealta.vouchers.codes import format_code, new_code

KINDS = ("opened", "clicked", "bought", "event")
MAX_DAYS = 366
MAX_EVENTS = 50
EventKind = Literal["opened", "clicked", "bought", "event"]


@dataclass(frozen=True)
class Planned:
    """An event the marketer plans: ``kind`` on ``day`` (see the module docstring)."""

    day: float
    kind: EventKind
    template: str | None = None
    amount: Decimal | None = None
    currency: str = "EUR"
    name: str | None = None

    def describe(self) -> str:
        """``clicks the e-mail reactivation-feedback``, ``buys 60 EUR``."""
        if self.kind in ("opened", "clicked"):
            verb = "opens" if self.kind == "opened" else "clicks"
            return f"{verb} the e-mail {self.template or '(the newest one)'}"
        if self.kind == "bought":
            return f"buys {self.amount:g} {self.currency}"
        return f"does “{self.name}”"


def planned(rows: Sequence[Mapping[str, Any]]) -> list[Planned]:
    """Planned events from plain data (a form, a JSON body), checked.

    Raises
    ------
    InvalidInput
        Naming the row and the field (``events[1].day``) of the first problem.
    """
    if len(rows) > MAX_EVENTS:
        raise InvalidInput(f"at most {MAX_EVENTS} planned events", field="events")
    return [_one(row, f"events[{i}]") for i, row in enumerate(rows)]


def _one(row: Mapping[str, Any], where: str) -> Planned:
    try:
        day = float(str(row.get("day", "")).strip())
    except ValueError:
        raise InvalidInput(f"{where}: day must be a number of days", field=f"{where}.day") from None
    if not 0 <= day <= MAX_DAYS:
        raise InvalidInput(f"{where}: day must be 0 to {MAX_DAYS}", field=f"{where}.day")
    kind = str(row.get("kind", "")).strip()
    if kind not in KINDS:
        raise InvalidInput(
            f"{where}: kind must be one of {', '.join(KINDS)}", field=f"{where}.kind"
        )
    text = {k: str(row.get(k) or "").strip() for k in ("template", "name", "currency", "amount")}
    if kind == "bought":
        try:
            amount = Decimal(text["amount"].replace(",", "."))
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount <= 0:
            raise InvalidInput(
                f"{where}: a purchase needs an amount above 0", field=f"{where}.amount"
            )
        currency = (text["currency"] or "EUR").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidInput(
                f"{where}: currency must be a 3-letter code", field=f"{where}.currency"
            )
        return Planned(day, "bought", amount=amount, currency=currency)
    if kind == "event":
        if not text["name"] or len(text["name"]) > 200:
            raise InvalidInput(f"{where}: name the event", field=f"{where}.name")
        return Planned(day, "event", name=text["name"])
    return Planned(
        day, "opened" if kind == "opened" else "clicked", template=text["template"] or None
    )


@dataclass
class Entry:
    """One line of the simulated time line: on ``day`` (from the start), at ``at``."""

    at: dt.datetime
    day: float
    step_id: str | None
    kind: str  # step, branch, wait, message, voucher, action, event, end
    text: str
    message: dict[str, Any] | None = None


@dataclass
class Simulation:
    """What would happen to the contact: the time line and where the run ends."""

    contact_id: str
    start: dt.datetime
    days: float
    entries: list[Entry] = field(default_factory=list)
    ending: str = ""
    end_step: str | None = None
    status: str = "waiting"
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (times as ISO 8601)."""
        return {
            "contact_id": self.contact_id,
            "start": self.start.isoformat(),
            "days": self.days,
            "status": self.status,
            "end_step": self.end_step,
            "ending": self.ending,
            "warnings": self.warnings,
            "timeline": [
                {
                    "at": e.at.isoformat(),
                    "day": e.day,
                    "step": e.step_id,
                    "kind": e.kind,
                    "text": e.text,
                    **({"message": e.message} if e.message is not None else {}),
                }
                for e in self.entries
            ],
        }


def find_contact(session: Session, text: str) -> str:
    """The id of the live contact whose id or e-mail address is ``text``.

    Raises
    ------
    NotFound
        When no live contact has that id or address.
    """
    given = text.strip()
    if not given:
        raise InvalidInput("give the contact's e-mail address or id", field="contact")
    found = session.get(Contact, given)
    if found is None and "@" in given:
        owner = session.scalar(
            select(Identifier.contact_id).where(
                Identifier.kind == "email", Identifier.value == normalize_email(given)
            )
        )
        found = session.get(Contact, owner) if owner else None
    if found is None or found.erased_at is not None or found.merged_into is not None:
        raise NotFound(f"no contact with the id or e-mail {given!r}")
    return found.id


def simulate(
    session: Session,
    settings: Settings,
    rules: WorkflowDefinition,
    contact_id: str,
    events: Sequence[Planned] = (),
    *,
    now: dt.datetime,
    days: float = 30.0,
    render: bool = True,
) -> Simulation:
    """Run ``rules`` for ``contact_id`` from ``now`` for ``days`` with the planned ``events``.

    Raises
    ------
    NotFound
        When the contact is not a live one.
    InvalidInput
        When ``days`` is not within 0 to :data:`MAX_DAYS`.
    """
    if not 0 < days <= MAX_DAYS:
        raise InvalidInput(f"days must be above 0 and at most {MAX_DAYS}", field="days")
    names = event_names(rules)  # of a long history, only what the workflow can test
    view = contact_views(session, [contact_id], now=now, event_names=names).get(contact_id)
    if view is None:
        raise NotFound(f"no live contact {contact_id!r}")
    result = Simulation(contact_id, now, days)
    coming = _events(rules, view, events, now, days, result.warnings)
    timeline = engine.simulate(rules, view, start=now, days=days, events=coming)
    _Describer(session, settings, rules, result, render).describe(timeline, coming)
    return result


def _events(
    rules: WorkflowDefinition,
    view: ContactView,
    events: Sequence[Planned],
    start: dt.datetime,
    days: float,
    warnings: list[str],
) -> list[EventView]:
    """The planned events as the engine sees them; "the newest e-mail" resolved by running the
    simulation up to each such event with the events before it."""
    resolved: list[EventView] = []
    for plan in sorted(events, key=lambda p: p.day):
        # A minute after the day starts, so a day-0 event comes after the run's entry.
        at = start + dt.timedelta(days=plan.day, minutes=1)
        if plan.kind == "bought":
            properties: dict[str, Any] = {
                "revenue": float(plan.amount or 0),
                "total": float(plan.amount or 0),
                "currency": plan.currency,
                "simulated": True,
            }
            resolved.append(EventView(ORDER_COMPLETED, "track", at, properties))
        elif plan.kind == "event":
            resolved.append(EventView(plan.name, "track", at, {"simulated": True}))
        else:
            template = plan.template or _newest_email(rules, view, resolved, start, at)
            if template is None:
                warnings.append(
                    f"day {plan.day:g}: no e-mail had been sent yet, so there was nothing to "
                    f"{'open' if plan.kind == 'opened' else 'click'}"
                )
                continue
            name = MESSAGE_EVENTS[plan.kind]
            resolved.append(EventView(name, "track", at, {"template": template, "simulated": True}))
    return [e for e in resolved if e.occurred_at <= start + dt.timedelta(days=days)]


def _newest_email(
    rules: WorkflowDefinition,
    view: ContactView,
    known: list[EventView],
    start: dt.datetime,
    at: dt.datetime,
) -> str | None:
    days = (at - start).total_seconds() / 86400
    timeline = engine.simulate(rules, view, start=start, days=days, events=known)
    sent = [
        item.template
        for moment, item in timeline
        if isinstance(item, engine.Send) and item.channel == "email" and moment <= at
    ]
    return sent[-1] if sent else None


class _Describer:
    """Turns the engine's time line into entries a marketer reads."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        rules: WorkflowDefinition,
        result: Simulation,
        render: bool,
    ) -> None:
        self.session, self.settings, self.rules = session, settings, rules
        self.result = result
        self.render = render
        self.vouchers: dict[str, dict[str, Any]] = {}

    def add(self, at: dt.datetime, step_id: str | None, kind: str, text: str) -> Entry:
        day = (at - self.result.start).total_seconds() / 86400
        entry = Entry(at, round(day, 2), step_id, kind, text)
        self.result.entries.append(entry)
        return entry

    def describe(
        self,
        timeline: list[tuple[dt.datetime, engine.StepLog | engine.Command]],
        events: list[EventView],
    ) -> None:
        items: list[tuple[dt.datetime, int, Any]] = [(m, 1, i) for m, i in timeline]
        items += [(e.occurred_at, 0, e) for e in events]
        last_wait: str | None = None
        for moment, _order, item in sorted(items, key=lambda t: (t[0], t[1])):
            if isinstance(item, EventView):
                self.add(moment, None, "event", _event_words(item))
            elif isinstance(item, engine.StepLog):
                last_wait = self._log(moment, item, last_wait)
            elif isinstance(item, engine.Send):
                self._send(moment, item)
            elif isinstance(item, engine.IssueVoucher):
                self._voucher(moment, item)
        if self.result.status == "waiting":
            where = last_wait or "the last step reached"
            self.result.ending = (
                f"Still in the workflow after {self.result.days:g} days, waiting at '{where}'"
            )
            self.result.end_step = last_wait

    def _log(self, moment: dt.datetime, log: engine.StepLog, waiting: str | None) -> str | None:
        step = self.rules.step(log.step_id) if log.step_id else None
        outcome = log.outcome
        if outcome == "entered" and step is not None:
            self.add(moment, log.step_id, "step", f"Reaches '{step.id}': {words.step(step)}")
        elif outcome.startswith(("branch:", "split:")) or outcome in ("event", "timeout"):
            self.add(
                moment, log.step_id, "branch", f"Takes the “{words.branch(step, outcome)}” path"
            )
        elif outcome == "waiting":
            until = dt.datetime.fromisoformat(str(log.detail.get("until")))
            day = (until - self.result.start).total_seconds() / 86400
            self.add(moment, log.step_id, "wait", f"Waits until day {day:.4g}")
            return log.step_id
        elif outcome == "goal":
            self.add(moment, log.step_id, "end", "Reaches the goal")
            self._end("goal", log.step_id, f"Converted: reached the goal at '{log.step_id}'")
        elif outcome == "exit":
            reason = log.detail.get("reason", "done")
            self.add(moment, log.step_id, "end", f"Leaves the workflow ({reason})")
            on_day = self._day(moment)
            self._end("done", log.step_id, f"Leaves at '{log.step_id}' ({reason}) on day {on_day}")
        elif outcome in ("loop", "missing_date"):
            self.add(moment, log.step_id, "end", f"Stopped: {outcome.replace('_', ' ')}")
            self._end("exited", log.step_id, f"Stopped at '{log.step_id}' ({outcome})")
        return waiting if outcome != "entered" else None

    def _day(self, moment: dt.datetime) -> str:
        return f"{(moment - self.result.start).total_seconds() / 86400:.4g}"

    def _end(self, status: str, step_id: str | None, text: str) -> None:
        self.result.status, self.result.end_step, self.result.ending = status, step_id, text

    def _voucher(self, moment: dt.datetime, command: engine.IssueVoucher) -> None:
        code = new_code(prefix="TRY")
        voucher = {
            "code": code,
            "display": format_code(code),
            "kind": command.kind,
            "value": command.value,
            "currency": command.currency,
            "issued_at": moment,
            "expires_at": moment + dt.timedelta(days=command.valid_days),
        }
        self.vouchers[command.save_as] = voucher
        value = {
            "percent": f"{command.value:g}%",
            "amount": f"{command.value:g} {command.currency}",
        }
        self.add(
            moment,
            command.step_id,
            "voucher",
            f"Gets a {value.get(command.kind, 'free shipping')} voucher valid "
            f"{command.valid_days} days (code made up for this try: {format_code(code)})",
        )

    def _send(self, moment: dt.datetime, command: engine.Send) -> None:
        entry = self.add(
            moment,
            command.step_id,
            "message",
            f"Gets the {words.CHANNELS.get(command.channel, command.channel)} {command.template}",
        )
        message: dict[str, Any] = {"template": command.template, "channel": command.channel}
        message["index"] = sum(1 for e in self.result.entries if e.message is not None)
        entry.message = message
        if not self.render or command.channel == "webhook":
            return
        from lealta.messages.service import render_for

        payload: dict[str, Any] = {
            **command.data,
            "workflow": self.rules.id,
            "step": command.step_id,
        }
        if "voucher" in self.vouchers:
            payload["voucher"] = self.vouchers["voucher"]
        elif self.vouchers:
            payload["voucher"] = next(iter(self.vouchers.values()))
        try:
            parts = render_for(
                self.session,
                self.settings,
                template_id=command.template,
                contact_id=self.result.contact_id,
                payload=payload,
                now=moment,
            )
        except LealtaError as problem:
            message["problem"] = str(problem)
            return
        message["subject"] = parts.get("subject") or parts.get("title") or ""
        message["text"] = parts.get("text") or parts.get("body") or ""
        message["html"] = parts.get("html") or ""


def _event_words(event: EventView) -> str:
    if event.name == ORDER_COMPLETED:
        return f"Buys for {event.properties.get('total'):g} {event.properties.get('currency')}"
    template = event.properties.get("template")
    if event.name in MESSAGE_EVENTS.values() and template:
        verb = "Opens" if event.name == MESSAGE_EVENTS["opened"] else "Clicks"
        return f"{verb} the e-mail {template}"
    return f"Does “{event.name}”"


def message_at(simulation: Simulation, index: int) -> dict[str, Any]:
    """The ``index``-th message of a simulation (0 first).

    Raises
    ------
    NotFound
        When the simulation sent fewer messages.
    """
    found = [e.message for e in simulation.entries if e.message is not None]
    if not 0 <= index < len(found):
        raise NotFound(f"the simulation sends no message number {index + 1}")
    return found[index]
