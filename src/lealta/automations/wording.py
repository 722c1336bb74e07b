"""Workflows in a marketer's words: triggers, steps, conditions and durations. Pure.

Shared by the library cards, the flow diagram and the version diff, so one step reads the same
everywhere ("Wait 5 days", "Send e-mail reactivation-seasonal").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from lealta.automations import definition as d
from lealta.automations.durations import parse_duration

CHANNELS = {
    "email": "e-mail",
    "sms": "SMS",
    "push": "push message",
    "web_push": "web push",
    "onsite": "on-site message",
    "webhook": "webhook",
}
KINDS = {
    "send": "Send",
    "wait": "Wait",
    "wait_until": "Wait until",
    "wait_for_event": "Wait for event",
    "if": "If / else",
    "split": "A/B split",
    "tag": "Tags",
    "list": "Lists",
    "score": "Score",
    "set_attribute": "Set attribute",
    "stage": "Stage",
    "voucher": "Voucher",
    "webhook": "Webhook",
    "start_workflow": "Start workflow",
    "exit": "Exit",
}
_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def plural(count: float, word: str) -> str:
    """``1 day``, ``3 days``."""
    shown = f"{count:g}"
    return f"{shown} {word}" if count == 1 else f"{shown} {word}s"


def duration(text: str) -> str:
    """``"1d12h"`` → ``"1 day 12 hours"``; ``"2w"`` → ``"2 weeks"``; weeks only when whole."""
    return span(parse_duration(text))


def span(length: timedelta) -> str:
    """A length of time in words (``5 days``, ``1 day 12 hours``)."""
    seconds = int(length.total_seconds())
    parts = []
    for word, size in _UNITS:
        if word == "week" and seconds % size:
            continue
        if seconds >= size:
            parts.append(plural(seconds // size, word))
            seconds %= size
    return " ".join(parts) or "no time"


def trigger(found: Any) -> str:
    """What starts the workflow, e.g. ``lifecycle stage becomes Inactive``."""
    if isinstance(found, d.EventTrigger):
        return f"the event “{found.event}” happens" + (" (with conditions)" if found.where else "")
    if isinstance(found, d.PageSequenceTrigger):
        return f"pages {' → '.join(found.paths)} are visited within {found.within_minutes} min"
    if isinstance(found, d.ListJoinedTrigger):
        return f"someone joins the list “{found.list}”"
    if isinstance(found, d.TagAddedTrigger):
        return f"the tag “{found.tag}” is added"
    if isinstance(found, d.SegmentEnteredTrigger):
        return f"someone enters the RFM segment “{found.segment}”"
    if isinstance(found, d.SegmentLeftTrigger):
        return f"someone leaves the RFM segment “{found.segment}”"
    if isinstance(found, d.ScoreThresholdTrigger):
        return f"the lead score rises past {found.threshold:g}"
    if isinstance(found, d.StageChangedTrigger):
        return f"lifecycle stage becomes {found.to}" if found.to else "lifecycle stage changes"
    if isinstance(found, d.AnniversaryTrigger):
        before = f"{plural(found.days_before, 'day')} before " if found.days_before else ""
        return f"yearly, {before}the date in “{found.attribute}”, at {found.at}"
    if isinstance(found, d.CountInWindowTrigger):
        window = plural(found.window_days, "day")
        return f"“{found.event}” happens {found.count} times within {window}"
    if isinstance(found, d.InactivityTrigger):
        what = f"“{found.event}”" if found.event else "any activity"
        return f"no {what} for {plural(found.days, 'day')}"
    if isinstance(found, d.ScheduleTrigger):
        return f"on schedule “{found.cron}” ({_audience(found.audience)})"
    return "someone is enrolled by hand or by another workflow"


def _audience(audience: d.Audience) -> str:
    parts = [f"{name} {value}" for name, value in audience.model_dump().items() if value]
    return ", ".join(parts) or "everyone"


def condition(spec: Any) -> str:
    """A condition in words (``clicked reactivation-feedback``, ``2+ Order Completed in
    400 days``)."""
    kind = getattr(spec, "kind", "")
    if kind == "message":
        return f"{spec.action} the e-mail {spec.template}"
    if kind == "purchased_since_entered":
        return "bought since entering"
    if kind == "event_count":
        count = f"{spec.gte}+" if spec.lte is None else f"{spec.gte} to {spec.lte}"
        within = f" in {plural(spec.within_days, 'day')}" if spec.within_days else ""
        return f"{count} “{spec.event}”{within}"
    if kind == "tag":
        return f"has tag {spec.tag}" if spec.present else f"lacks tag {spec.tag}"
    if kind == "attribute":
        return f"{spec.name} {spec.op} {spec.value}"
    if kind in ("stage", "segment", "cluster"):
        return f"{kind} is {' or '.join(spec.in_)}"
    if kind == "score":
        return f"score {'≥ ' + format(spec.gte, 'g') if spec.gte is not None else ''}" + (
            f" ≤ {spec.lte:g}" if spec.lte is not None else ""
        )
    if kind == "list":
        return f"{spec.status} to list {spec.list}"
    if kind == "consent":
        return f"{spec.channel} consent {spec.status}"
    if kind in ("all", "any"):
        joiner = " and " if kind == "all" else " or "
        return joiner.join(condition(c) for c in spec.conditions)
    if kind == "not":
        return f"not ({condition(spec.condition)})"
    return kind


def step(found: Any) -> str:
    """What a step does, in a few words (``Send e-mail welcome``, ``Wait 5 days``)."""
    if isinstance(found, d.SendStep):
        return f"Send {CHANNELS.get(found.channel, found.channel)} {found.template}"
    if isinstance(found, d.WaitStep):
        return f"Wait {duration(found.duration)}"
    if isinstance(found, d.WaitUntilStep):
        return "Wait until " + ", ".join(_until(found))
    if isinstance(found, d.WaitForEventStep):
        return f"Wait up to {duration(found.timeout)} for “{found.event}”"
    if isinstance(found, d.IfStep):
        return f"If {condition(found.condition)}"
    if isinstance(found, d.SplitStep):
        return "Split " + " / ".join(f"{b.name} {b.percent}%" for b in found.branches)
    if isinstance(found, d.TagStep | d.ListStep):
        noun = "tag" if isinstance(found, d.TagStep) else "list"
        adds = [f"add {noun} {', '.join(found.add)}"] if found.add else []
        return "; ".join(adds + ([f"remove {', '.join(found.remove)}"] if found.remove else []))
    if isinstance(found, d.ScoreStep):
        return f"{'Add' if found.points >= 0 else 'Take'} {abs(found.points):g} score points"
    if isinstance(found, d.SetAttributeStep):
        return f"Set {found.name} to {found.value}"
    if isinstance(found, d.StageStep):
        return f"Move to stage {found.to}"
    if isinstance(found, d.VoucherStep):
        return f"Voucher {voucher_value(found)}, valid {plural(found.valid_days, 'day')}"
    if isinstance(found, d.WebhookStep):
        return f"Call {found.url}"
    if isinstance(found, d.StartWorkflowStep):
        return f"Start workflow {found.workflow}"
    if isinstance(found, d.ExitStep):
        return f"Exit: {found.reason}"
    return str(getattr(found, "type", "step"))


def voucher_value(found: d.VoucherStep) -> str:
    """``20%``, ``10 EUR``, ``free shipping``."""
    if found.kind == "percent":
        return f"{found.value:g}%"
    if found.kind == "amount":
        return f"{found.value:g} {found.currency}"
    return "free shipping"


def _until(found: d.WaitUntilStep) -> list[str]:
    parts = []
    if found.weekday:
        parts.append("/".join(found.weekday))
    if found.date_attribute:
        before = f"{plural(found.days_before, 'day')} before " if found.days_before else ""
        parts.append(f"{before}{found.date_attribute}")
    if found.time:
        parts.append(found.time)
    return parts


def branch(found: Any, label: str) -> str:
    """An outcome label of a step as read on its arrow (``yes``, ``A 50%``, ``no event``)."""
    if label == "branch:then":
        return "yes"
    if label == "branch:else":
        return "no"
    if label == "event":
        return "event came"
    if label == "timeout":
        return f"no event in {duration(found.timeout)}"
    if label.startswith("split:") and isinstance(found, d.SplitStep):
        name = label.removeprefix("split:")
        percent = next((b.percent for b in found.branches if b.name == name), None)
        return f"{name} {percent}%" if percent is not None else name
    return ""


def field_value(value: Any) -> str:
    """A step field's value for a sentence (``5 days`` stays as written: ``5d``)."""
    if isinstance(value, BaseModel):
        return condition(value) if hasattr(value, "kind") else str(value.model_dump())
    if isinstance(value, list):
        return ", ".join(field_value(v) for v in value) or "none"
    if value is None or value == "":
        return "nothing"
    return str(value)
