"""The journey editor's form: which fields each part of a definition shows, and the posted form
read back into the definition. Pure.

Field names say where a value goes: ``t.event`` (the trigger), ``e.max_active`` (entry rules),
``g.c.kind`` (the goal's condition), ``s.<step id>.duration_amount`` (a step), where a
step goes (``s.<id>.then``/``else``/``on_event``/``on_timeout``, ``s.<id>.b<n>.next`` for a
split's branch n, ``s.<id>.next`` for a linear step, empty meaning the following step), and for
conditions ``<prefix>kind`` with ``<prefix><n>.`` for the conditions inside ``all``/``any``
and ``<prefix>x.`` inside ``not``. A field left out of the form keeps the draft's value, so
settings the form does not show (an event's ``where`` tests, a send's ``data``) survive.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from lealta.automations.durations import parse_duration
from lealta.automations.editing import EditRefused
from lealta.errors import InvalidInput
from lealta.scoring.rules import Op

Form = Mapping[str, str]
Field = dict[str, Any]
UNITS = (("m", "minutes"), ("h", "hours"), ("d", "days"), ("w", "weeks"))
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
CHANNELS = ("email", "sms", "push", "web_push", "onsite", "webhook")
CONDITION_KINDS = {
    "purchased_since_entered": "Bought since entering",
    "message": "Opened or clicked a message",
    "event_count": "Did an event (a number of times)",
    "tag": "Has a tag",
    "list": "Is on a list",
    "stage": "Lifecycle stage is",
    "segment": "RFM segment is",
    "cluster": "Cluster is",
    "loyalty_tier": "Loyalty tier is",
    "loyalty_points": "Loyalty points balance is between",
    "score": "Lead score is between",
    "attribute": "Attribute",
    "consent": "Consent for a channel",
    "all": "All of these",
    "any": "Any of these",
    "not": "Not",
}
TRIGGER_KINDS = {
    "stage_changed": "Lifecycle stage changes",
    "event": "An event happens",
    "segment_entered": "Enters an RFM segment",
    "segment_left": "Leaves an RFM segment",
    "tag_added": "A tag is added",
    "list_joined": "Joins a list",
    "score_threshold": "Lead score crosses a threshold",
    "inactivity": "No activity for some days",
    "count_in_window": "An event happens N times within days",
    "anniversary": "A yearly date (birthday …)",
    "page_sequence": "Visits pages in order",
    "schedule": "On a schedule",
    "manual": "Added by hand or by another journey",
}
OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]


# -- small readers -------------------------------------------------------------------------


def _text(form: Form, name: str, base: Any) -> Any:
    return form[name].strip() if name in form else base


def _optional(form: Form, name: str, base: Any) -> Any:
    if name not in form:
        return base
    return form[name].strip() or None


def _words_list(form: Form, name: str, base: Any, *, lines: bool = False) -> Any:
    if name not in form:
        return base
    parts = form[name].splitlines() if lines else form[name].split(",")
    return [part.strip() for part in parts if part.strip()]


def _flag(form: Form, name: str, base: Any) -> Any:
    """A checkbox: its hidden twin ``name~`` says it was shown, so unticked reads as False."""
    if f"{name}~" not in form:
        return base
    return name in form


def split_duration(text: Any) -> tuple[str, str]:
    """A duration as an amount and a unit for the form (``"5d"`` → ``("5", "d")``); text that
    is not a duration stays as typed, in days."""
    try:
        seconds = int(parse_duration(str(text)).total_seconds())
    except InvalidInput:
        return str(text or "").rstrip("smhdw"), "d"
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return str(seconds // _UNIT_SECONDS[unit]), unit
    return str(seconds), "s"


def _duration(form: Form, prefix: str, base: Any) -> Any:
    amount, unit = f"{prefix}_amount", f"{prefix}_unit"
    if amount not in form:
        return base
    return f"{form[amount].strip()}{form.get(unit, 'd').strip()}"


def duration_words(text: Any) -> str:
    """``"5d"`` → ``"5 days"``."""
    try:
        parse_duration(str(text))
    except InvalidInput:
        return str(text)
    amount, unit = split_duration(text)
    name = dict(UNITS).get(unit, "seconds")
    return f"{amount} {name[:-1] if amount == '1' else name}"


def _delta(text: Any) -> timedelta | None:
    try:
        return parse_duration(str(text))
    except InvalidInput:
        return None


# -- conditions ----------------------------------------------------------------------------


def blank_condition(kind: str) -> dict[str, Any]:
    """A new condition of ``kind`` for the marketer to fill in."""
    blanks: dict[str, dict[str, Any]] = {
        "attribute": {"name": "", "op": "equals", "value": ""},
        "tag": {"tag": ""},
        "list": {"list": ""},
        "stage": {"in": []},
        "segment": {"in": []},
        "cluster": {"in": []},
        "loyalty_tier": {},
        "loyalty_points": {"gte": 0},
        "score": {"gte": 0},
        "consent": {"channel": "email"},
        "event_count": {"event": "Order Completed", "gte": 1},
        "message": {"template": "", "action": "clicked"},
        "all": {"conditions": [{"kind": "purchased_since_entered"}]},
        "any": {"conditions": [{"kind": "purchased_since_entered"}]},
        "not": {"condition": {"kind": "purchased_since_entered"}},
    }
    return {"kind": kind, **copy.deepcopy(blanks.get(kind, {}))}


def read_condition(form: Form, prefix: str, base: Any) -> Any:
    """The condition posted under ``prefix``, over ``base`` (the draft's)."""
    old = base if isinstance(base, dict) else {}
    kind = form.get(f"{prefix}kind", old.get("kind", "purchased_since_entered"))
    found = copy.deepcopy(old) if old.get("kind") == kind else blank_condition(kind)
    if kind in ("all", "any"):
        children = found.get("conditions") or []
        found["conditions"] = [
            read_condition(form, f"{prefix}{n}.", child) for n, child in enumerate(children)
        ]
    elif kind == "not":
        found["condition"] = read_condition(form, f"{prefix}x.", found.get("condition"))
    for name in ("name", "op", "tag", "list", "channel", "status", "event", "template", "action"):
        found[name] = _text(form, prefix + name, found.get(name))
    for name in ("gte", "lte", "within_days"):
        found[name] = _optional(form, prefix + name, found.get(name))
    if kind == "event_count" and found.get("gte") is None:
        found["gte"] = 0
    found["in"] = _words_list(form, prefix + "in", found.get("in"))
    found["present"] = _flag(form, prefix + "present", found.get("present"))
    found["since_entered"] = _flag(form, prefix + "since_entered", found.get("since_entered"))
    if kind == "attribute":
        found["value"] = _attribute_value(form, prefix, found)
    if kind == "loyalty_tier":  # blank fields: in any tier
        found["at_least"] = _optional(form, prefix + "at_least", found.get("at_least"))
        found["in"] = found.get("in") or None
    return {key: value for key, value in found.items() if value is not None}


def _attribute_value(form: Form, prefix: str, found: dict[str, Any]) -> Any:
    if f"{prefix}value" not in form:
        return found.get("value")
    text = form[f"{prefix}value"].strip()
    if found.get("op") == "in":
        return [part.strip() for part in text.split(",") if part.strip()]
    if found.get("op") == "exists":
        return text.lower() not in ("no", "false", "0")
    return text


def condition_fields(condition: Any, prefix: str, templates: list[str]) -> dict[str, Any]:
    """What the form shows of a condition: its kind, fields, and the conditions inside it."""
    data = condition if isinstance(condition, dict) else {"kind": "purchased_since_entered"}
    kind = str(data.get("kind"))
    view: dict[str, Any] = {
        "prefix": prefix,
        "kind": kind,
        "kinds": CONDITION_KINDS,
        "fields": [],
        "children": [],
    }
    fields: list[Field] = view["fields"]
    if kind in ("all", "any"):
        view["children"] = [
            condition_fields(child, f"{prefix}{n}.", templates)
            for n, child in enumerate(data.get("conditions") or [])
        ]
    elif kind == "not":
        view["children"] = [condition_fields(data.get("condition"), f"{prefix}x.", templates)]
    elif kind == "message":
        messages = {"": "Choose a message", **{t: t for t in templates}}
        fields.append(_select(prefix + "template", "Message", data.get("template"), messages))
        fields.append(
            _select(prefix + "action", "Action", data.get("action"), ["clicked", "opened"])
        )
    elif kind == "event_count":
        fields += [
            _input(prefix + "event", "Event", data.get("event")),
            _input(prefix + "gte", "At least (times)", data.get("gte"), kind="number"),
            _input(prefix + "lte", "At most (times, optional)", data.get("lte"), kind="number"),
            _input(
                prefix + "within_days",
                "Within the last days (optional)",
                data.get("within_days"),
                kind="number",
            ),
            _check(
                prefix + "since_entered",
                "Only since entering the journey",
                data.get("since_entered"),
            ),
        ]
        if data.get("where"):
            fields.append(_note(f"Only events where {_where_words(data['where'])} (YAML)."))
    elif kind == "tag":
        fields += [
            _input(prefix + "tag", "Tag", data.get("tag")),
            _check(
                prefix + "present", "Has it (untick: does not have it)", data.get("present", True)
            ),
        ]
    elif kind == "list":
        fields += [
            _input(prefix + "list", "List", data.get("list")),
            _select(
                prefix + "status",
                "Status",
                data.get("status", "subscribed"),
                ["subscribed", "pending", "unsubscribed"],
            ),
        ]
    elif kind in ("stage", "segment", "cluster"):
        fields.append(
            _input(prefix + "in", "Any of (comma-separated)", ", ".join(data.get("in") or []))
        )
    elif kind == "loyalty_tier":
        fields += [
            _input(
                prefix + "at_least",
                "At least (a tier, optional)",
                data.get("at_least"),
                hint="Leave both empty for any tier (a member).",
            ),
            _input(
                prefix + "in",
                "Or one of (comma-separated, optional)",
                ", ".join(data.get("in") or []),
            ),
        ]
    elif kind == "loyalty_points":
        fields += [
            _input(prefix + "gte", "At least (points)", data.get("gte"), kind="number"),
            _input(
                prefix + "lte",
                "At most (points, optional)",
                data.get("lte"),
                kind="number",
                hint="The balance now; a contact without points has 0.",
            ),
        ]
    elif kind == "score":
        fields += [
            _input(prefix + "gte", "At least", data.get("gte"), kind="number"),
            _input(prefix + "lte", "At most", data.get("lte"), kind="number"),
        ]
    elif kind == "attribute":
        value = data.get("value")
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        fields += [
            _input(prefix + "name", "Attribute", data.get("name")),
            _select(prefix + "op", "Test", data.get("op"), list(OPS)),
            _input(prefix + "value", "Value", "" if shown is None else shown),
        ]
    elif kind == "consent":
        fields += [
            _select(prefix + "channel", "Channel", data.get("channel"), list(CHANNELS)),
            _select(
                prefix + "status",
                "Decision",
                data.get("status", "granted"),
                ["granted", "denied", "pending"],
            ),
        ]
    return view


def _where_words(where: Any) -> str:
    tests = [f"{w.get('property')} {w.get('op')} {w.get('value')}" for w in where or []]
    return " and ".join(tests)


def condition_words(condition: Any) -> str:
    """A condition in a few words, for the outline."""
    data = condition if isinstance(condition, dict) else {}
    kind = data.get("kind")
    if kind in ("all", "any"):
        joiner = " and " if kind == "all" else " or "
        return "(" + joiner.join(condition_words(c) for c in data.get("conditions") or []) + ")"
    if kind == "not":
        return f"not {condition_words(data.get('condition'))}"
    if kind == "message":
        return f"{data.get('action', 'opened')} “{data.get('template')}”"
    if kind == "event_count":
        window = f" in {data['within_days']} days" if data.get("within_days") else ""
        return f"“{data.get('event')}” at least {data.get('gte', 1)} times{window}"
    if kind == "tag":
        return f"{'has' if data.get('present', True) else 'lacks'} tag “{data.get('tag')}”"
    if kind in ("stage", "segment", "cluster"):
        return f"{kind} is {' or '.join(data.get('in') or [])}"
    if kind == "loyalty_tier":
        if data.get("at_least"):
            return f"loyalty tier {data['at_least']} or above"
        if data.get("in"):
            return f"loyalty tier is {' or '.join(data['in'])}"
        return "in a loyalty tier"
    if kind == "loyalty_points":
        return _points_words(data.get("gte"), data.get("lte"))
    if kind == "purchased_since_entered":
        return "bought since entering"
    return CONDITION_KINDS.get(str(kind), str(kind)).lower()


def _points_words(low: Any, high: Any) -> str:
    if low not in (None, "") and high not in (None, ""):
        return f"loyalty points between {low} and {high}"
    if high not in (None, ""):
        return f"loyalty points at most {high}"
    return f"loyalty points at least {low if low not in (None, '') else 0}"


# -- field specs ---------------------------------------------------------------------------


def _input(name: str, label: str, value: Any, *, kind: str = "text", hint: str = "") -> Field:
    return {
        "name": name,
        "label": label,
        "value": "" if value is None else value,
        "kind": kind,
        "hint": hint,
    }


def _select(name: str, label: str, value: Any, options: Any) -> Field:
    pairs = list(options.items()) if isinstance(options, dict) else [(o, o) for o in options]
    if value not in (None, "") and value not in dict(pairs):
        pairs.insert(0, (value, f"{value} (not stored)"))
    return {"name": name, "label": label, "value": value, "kind": "select", "options": pairs}


def _check(name: str, label: str, value: Any) -> Field:
    return {"name": name, "label": label, "value": bool(value), "kind": "checkbox"}


def _note(text: str) -> Field:
    return {"name": "", "label": text, "kind": "note", "value": ""}


def _duration_fields(prefix: str, label: str, value: Any) -> list[Field]:
    amount, unit = split_duration(value)
    return [
        _input(f"{prefix}_amount", label, amount, kind="number"),
        {**_select(f"{prefix}_unit", f"{label}: unit", unit, dict(UNITS)), "unit": True},
    ]


def condition_op(document: dict[str, Any], prefix: str, *, add: bool) -> dict[str, Any]:
    """Add a condition inside the ``all``/``any`` at ``prefix`` (``add``), or remove the
    condition at ``prefix`` from the ``all``/``any`` holding it. ``document`` is changed."""
    parts = prefix.strip(".").split(".")
    if parts[:1] == ["g"] and parts[1:2] == ["c"]:
        holder, key, path = document.get("goal") or {}, "condition", parts[2:]
    elif parts[:1] == ["s"] and len(parts) >= 3 and parts[2] == "c":
        steps = [s for s in document.get("steps") or [] if s.get("id") == parts[1]]
        holder, key, path = (steps[0] if steps else {}), "condition", parts[3:]
    else:
        raise EditRefused(f"no condition at {prefix!r}", field="op")
    parent: Any = None
    here: Any = holder.get(key)
    for part in path:
        parent = here
        here = here.get("condition") if part == "x" else (here.get("conditions") or [])[int(part)]
    if add:
        if not isinstance(here, dict) or here.get("kind") not in ("all", "any"):
            raise EditRefused("conditions are added inside “All of these” or “Any of these”")
        here.setdefault("conditions", []).append({"kind": "purchased_since_entered"})
    elif isinstance(parent, dict) and parent.get("kind") in ("all", "any") and path:
        del parent["conditions"][int(path[-1])]
    return document
