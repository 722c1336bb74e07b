"""The journey editor's view model: the trigger, entry rules, goal and the steps in the order
runs meet them (branches nested and labelled), each with the fields of its kind, where it goes
(a "goes to" choice of the journey's steps per arm, or for ``next``) and its problems; and the
posted form read back into a definition. Pure."""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from collections.abc import Mapping
from typing import Any

from lealta import problem_words as say
from lealta.automations import editing
from lealta.automations.editing import Problem, arms, following, is_linear
from lealta.console.journey_edit_form import (
    CHANNELS,
    TRIGGER_KINDS,
    Field,
    Form,
    _check,
    _duration,
    _duration_fields,
    _input,
    _note,
    _optional,
    _select,
    _text,
    _where_words,
    _words_list,
    condition_fields,
    condition_words,
    duration_words,
    read_condition,
)

KIND_WORDS = {
    "wait": "Wait",
    "send": "Send a message",
    "voucher": "Give a voucher",
    "tag": "Tag",
    "if": "If / else",
    "split": "A/B split",
    "wait_for_event": "Wait for an event",
    "exit": "Exit",
    "wait_until": "Wait until",
    "list": "Lists",
    "score": "Lead score",
    "set_attribute": "Set an attribute",
    "stage": "Lifecycle stage",
    "webhook": "Webhook",
    "start_workflow": "Start another journey",
}
ARM_LABELS = {"then": "Yes", "else": "No", "on_event": "When it happens", "on_timeout": "Timed out"}
ROUTE_LABELS = {
    "then": "Yes goes to",
    "else": "No goes to",
    "on_event": "When the event happens, goes to",
    "on_timeout": "When the wait times out, goes to",
}


# -- reading the form ----------------------------------------------------------------------


def read_form(draft: Mapping[str, Any], form: Form) -> dict[str, Any]:
    """The definition the posted form describes: the draft with every shown field applied."""
    document = copy.deepcopy(dict(draft))
    document["name"] = _text(form, "j.name", document.get("name"))
    document["description"] = _text(form, "j.description", document.get("description", ""))
    if "t.type" in form:
        document["trigger"] = _read_trigger(form, document.get("trigger"))
    if "e.reenter" in form:
        document["entry"] = _read_entry(form, document.get("entry") or {})
    if "g.on~" in form:
        if "g.on" in form:
            goal = document.get("goal") or {}
            document["goal"] = {
                "condition": read_condition(form, "g.c.", goal.get("condition")),
                "step": _optional(form, "g.step", goal.get("step")),
            }
        else:
            document.pop("goal", None)
    for step in document.get("steps") or []:
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            _read_step(form, f"s.{step['id']}.", step)
    return document


def _read_trigger(form: Form, old: Any) -> dict[str, Any]:
    kind = form["t.type"]
    base = copy.deepcopy(old) if isinstance(old, dict) and old.get("type") == kind else {}
    found: dict[str, Any] = {**base, "type": kind}
    for name in ("event", "list", "tag", "segment", "attribute", "at", "cron"):
        found[name] = _text(form, f"t.{name}", found.get(name))
    for name in (
        "to",
        "from_stage",
        "threshold",
        "within_minutes",
        "days_before",
        "count",
        "window_days",
        "days",
    ):
        found[name] = _optional(form, f"t.{name}", found.get(name))
    found["from_segments"] = _words_list(form, "t.from_segments", found.get("from_segments"))
    found["paths"] = _words_list(form, "t.paths", found.get("paths"), lines=True)
    if kind == "inactivity" and "t.event" in form:
        found["event"] = form["t.event"].strip() or None
    if kind == "schedule":
        audience = dict(found.get("audience") or {})
        for name in ("segment", "tag", "list", "stage"):
            audience[name] = _optional(form, f"t.audience.{name}", audience.get(name))
        found["audience"] = {k: v for k, v in audience.items() if v is not None}
    keep_none = {"event"} if kind == "inactivity" else set()
    return {k: v for k, v in found.items() if v is not None or k in keep_none}


def _read_entry(form: Form, old: Mapping[str, Any]) -> dict[str, Any]:
    entry = dict(old)
    entry["reenter"] = _text(form, "e.reenter", entry.get("reenter"))
    entry["reenter_after_days"] = _optional(
        form, "e.reenter_after_days", entry.get("reenter_after_days")
    )
    entry["max_active"] = _text(form, "e.max_active", entry.get("max_active", 1))
    for name in ("suppress_tags", "suppress_segments", "require_consent"):
        entry[name] = _words_list(form, f"e.{name}", entry.get(name))
    return entry


def _read_step(form: Form, prefix: str, step: dict[str, Any]) -> None:
    kind = step.get("type")
    if kind == "wait":
        step["duration"] = _duration(form, prefix + "duration", step.get("duration"))
    elif kind == "send":
        step["channel"] = _text(form, prefix + "channel", step.get("channel"))
        step["template"] = _text(form, prefix + "template", step.get("template"))
    elif kind == "voucher":
        step["kind"] = _text(form, prefix + "kind", step.get("kind"))
        step["value"] = _text(form, prefix + "value", step.get("value"))
        step["currency"] = _optional(form, prefix + "currency", step.get("currency"))
        step["valid_days"] = _text(form, prefix + "valid_days", step.get("valid_days"))
    elif kind == "tag":
        step["add"] = _words_list(form, prefix + "add", step.get("add"))
        step["remove"] = _words_list(form, prefix + "remove", step.get("remove"))
    elif kind == "if":
        step["condition"] = read_condition(form, prefix + "c.", step.get("condition"))
    elif kind == "wait_for_event":
        step["event"] = _text(form, prefix + "event", step.get("event"))
        step["timeout"] = _duration(form, prefix + "timeout", step.get("timeout"))
    elif kind == "split":
        for n, branch in enumerate(step.get("branches") or []):
            branch["name"] = _text(form, f"{prefix}b{n}.name", branch.get("name"))
            branch["percent"] = _text(form, f"{prefix}b{n}.percent", branch.get("percent"))
    elif kind == "exit":
        step["reason"] = _text(form, prefix + "reason", step.get("reason"))
    _read_routes(form, prefix, step)
    if "currency" in step and step["currency"] is None:
        del step["currency"]


def _read_routes(form: Form, prefix: str, step: dict[str, Any]) -> None:
    """Where the step sends runs, from its "goes to" choices: each arm of a branching step
    (an empty choice keeps the draft's target), or a linear step's ``next`` (empty: none)."""
    if step.get("type") == "split":
        for n, branch in enumerate(step.get("branches") or []):
            if isinstance(branch, dict) and (chosen := _text(form, f"{prefix}b{n}.next", "")):
                branch["next"] = chosen
    elif is_linear(step):
        if prefix + "next" in form:
            step["next"] = _optional(form, prefix + "next", step.get("next"))
    else:
        for label, _ in arms(step):
            if chosen := _text(form, prefix + label, ""):
                step[label] = chosen


# -- fields of each part -------------------------------------------------------------------


def trigger_fields(trigger: Any) -> list[Field]:
    """The trigger's kind and the fields of that kind."""
    data = trigger if isinstance(trigger, dict) else {"type": "manual"}
    kind = str(data.get("type"))
    fields = [{**_select("t.type", "Starts when", kind, TRIGGER_KINDS), "swaps": True}]
    get = data.get
    found = get("audience")
    audience: dict[str, Any] = found if isinstance(found, dict) else {}
    by_kind: dict[str, list[Field]] = {
        "event": [_input("t.event", "Event", get("event"))],
        "page_sequence": [
            _input(
                "t.paths",
                "Pages, one per line, in order",
                "\n".join(get("paths") or []),
                kind="textarea",
            ),
            _input("t.within_minutes", "Within minutes", get("within_minutes"), kind="number"),
        ],
        "list_joined": [_input("t.list", "List", get("list"))],
        "tag_added": [_input("t.tag", "Tag", get("tag"))],
        "segment_entered": [
            _input("t.segment", "Segment", get("segment")),
            _input(
                "t.from_segments",
                "Coming from (optional, comma-separated)",
                ", ".join(get("from_segments") or []),
            ),
        ],
        "segment_left": [_input("t.segment", "Segment", get("segment"))],
        "score_threshold": [_input("t.threshold", "Score", get("threshold"), kind="number")],
        "stage_changed": [
            _input("t.to", "To stage (empty: any)", get("to")),
            _input("t.from_stage", "From stage (empty: any)", get("from_stage")),
        ],
        "anniversary": [
            _input("t.attribute", "Date attribute", get("attribute")),
            _input("t.days_before", "Days before", get("days_before"), kind="number"),
            _input("t.at", "At (local time, HH:MM)", get("at")),
        ],
        "count_in_window": [
            _input("t.event", "Event", get("event")),
            _input("t.count", "Times", get("count"), kind="number"),
            _input("t.window_days", "Within days", get("window_days"), kind="number"),
        ],
        "inactivity": [
            _input("t.event", "No event named (empty: no event at all)", get("event")),
            _input("t.days", "For days", get("days"), kind="number"),
        ],
        "schedule": [
            _input("t.cron", "Cron (minute hour day month weekday)", get("cron")),
            *[
                _input(
                    f"t.audience.{name}",
                    f"Audience {name} (optional)",
                    audience.get(name),
                )
                for name in ("segment", "tag", "list", "stage")
            ],
        ],
    }
    fields += by_kind.get(kind, [])
    if get("where"):
        fields.append(_note(f"Only events where {_where_words(get('where'))} (edit in YAML)."))
    return fields


def entry_fields(entry: Any) -> list[Field]:
    """Who may start a run, and how often."""
    data = entry if isinstance(entry, dict) else {}
    reenter = {
        "after_exit": "Again once their previous run ended",
        "never": "Only once",
        "always": "Every time (runs may overlap)",
    }
    return [
        _select("e.reenter", "A contact may enter", data.get("reenter", "after_exit"), reenter),
        _input(
            "e.reenter_after_days",
            "Wait days after a run ended (optional)",
            data.get("reenter_after_days"),
            kind="number",
        ),
        _input(
            "e.max_active", "Runs at once per contact", data.get("max_active", 1), kind="number"
        ),
        _input(
            "e.suppress_tags",
            "Never enter with these tags (comma-separated)",
            ", ".join(data.get("suppress_tags") or []),
        ),
        _input(
            "e.suppress_segments",
            "Never enter from these RFM segments",
            ", ".join(data.get("suppress_segments") or []),
        ),
        _input(
            "e.require_consent",
            "Require consent for channels",
            ", ".join(data.get("require_consent") or []),
        ),
    ]


def step_fields(step: Mapping[str, Any], prefix: str, templates: list[str]) -> list[Field]:
    """The form fields of one step, fitting its kind."""
    kind, get = step.get("type"), step.get
    if kind == "wait":
        return _duration_fields(prefix + "duration", "Wait for", get("duration"))
    if kind == "send":
        return [
            _select(
                prefix + "template",
                "Message template",
                get("template"),
                {"": "Choose a template", **{t: t for t in templates}},
            ),
            _select(prefix + "channel", "Channel", get("channel"), list(CHANNELS)),
        ]
    if kind == "voucher":
        kinds = {"percent": "Percent off", "amount": "Amount off", "free_shipping": "Free shipping"}
        return [
            _select(prefix + "kind", "Voucher type", get("kind"), kinds),
            _input(prefix + "value", "Value", get("value"), kind="number"),
            _input(prefix + "currency", "Currency (amount vouchers, e.g. EUR)", get("currency")),
            _input(prefix + "valid_days", "Valid for days", get("valid_days"), kind="number"),
        ]
    if kind == "tag":
        return [
            _input(prefix + "add", "Add tags (comma-separated)", ", ".join(get("add") or [])),
            _input(prefix + "remove", "Remove tags", ", ".join(get("remove") or [])),
        ]
    if kind == "wait_for_event":
        return [
            _input(prefix + "event", "Event", get("event")),
            *_duration_fields(prefix + "timeout", "Give up after", get("timeout")),
        ]
    if kind == "exit":
        return [_input(prefix + "reason", "Reason (shown in reports)", get("reason"))]
    if kind in ("if", "split"):
        return []
    return [_note("This kind of step is edited in the YAML view.")]


def branch_rows(step: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """A split's branches as rows of name and percent."""
    return [
        {
            "n": n,
            "name": _input(f"{prefix}b{n}.name", "Branch name", b.get("name")),
            "percent": _input(f"{prefix}b{n}.percent", "Percent", b.get("percent"), kind="number"),
            "label": f"branch:{b.get('name')}",
        }
        for n, b in enumerate(step.get("branches") or [])
    ]


def summary(step: Mapping[str, Any]) -> str:
    """One step in a few words, for the outline."""
    kind, get = step.get("type"), step.get
    if kind == "wait":
        return f"Wait {duration_words(get('duration'))}"
    if kind == "send":
        return f"Send {get('channel')} “{get('template') or '(no template)'}”"
    if kind == "voucher":
        value = {"percent": f"{get('value')}%", "amount": f"{get('value')} {get('currency')}"}
        what = value.get(str(get("kind")), "free shipping")
        return f"Give a {what} voucher valid {get('valid_days')} days"
    if kind == "tag":
        added, removed = list(get("add") or []), list(get("remove") or [])
        parts = [f"add {', '.join(added)}" if added else ""]
        parts.append(f"remove {', '.join(removed)}" if removed else "")
        return "Tag: " + ("; ".join(p for p in parts if p) or "nothing yet")
    if kind == "if":
        return f"If {condition_words(get('condition'))}"
    if kind == "split":
        shares = " / ".join(f"{b.get('name')} {b.get('percent')}%" for b in get("branches") or [])
        return f"Split {shares}"
    if kind == "wait_for_event":
        return f"Wait up to {duration_words(get('timeout'))} for “{get('event')}”"
    if kind == "exit":
        return f"Exit ({get('reason', 'done')})"
    return KIND_WORDS.get(str(kind), str(kind))


# -- the outline: steps in the order runs meet them ----------------------------------------


def outline(document: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The steps as nested sequences: from the first step, each branching step's arms nested
    under it until they meet again; then the steps no run reaches from the start."""
    steps = [s for s in document.get("steps") or [] if isinstance(s, dict)]
    index = {str(s.get("id")): n for n, s in enumerate(steps)}
    placed: set[str] = set()

    def onward(step_id: str) -> list[str]:
        n = index[step_id]
        if is_linear(steps[n]):
            nxt = following(document, n)
            return [nxt] if nxt else []
        return [str(t) for _, t in arms(steps[n]) if t]

    def merge(targets: list[str], stops: set[str]) -> str | None:
        distances = []
        for target in targets:
            seen: dict[str, int] = {}
            todo = deque([(target, 0)])
            while todo:
                here, far = todo.popleft()
                if here in seen or here not in index:
                    continue
                seen[here] = far
                if here not in stops:
                    todo.extend((after, far + 1) for after in onward(here))
            distances.append(seen)
        common = set.intersection(*(set(d) for d in distances)) if distances else set()
        if not common:
            return None
        return min(common, key=lambda s: (max(d[s] for d in distances), index[s]))

    def sequence(start: str | None, stops: set[str]) -> tuple[list[dict[str, Any]], str | None]:
        nodes: list[dict[str, Any]] = []
        current = start
        while current is not None:
            if current in stops or current in placed or current not in index:
                return nodes, current
            placed.add(current)
            step = steps[index[current]]
            node: dict[str, Any] = {"id": current, "step": step, "arms": []}
            nodes.append(node)
            if is_linear(step):
                current = following(document, index[current])
                continue
            targets = [str(t) for _, t in arms(step) if t]
            joined = merge(targets, stops) if targets else None
            for label, target in arms(step):
                inner = stops | ({joined} if joined else set())
                sub, goes = sequence(str(target) if target else None, inner)
                node["arms"].append({"label": label, "nodes": sub, "goes_to": goes})
            current = joined
        return nodes, None

    main, _ = sequence(str(steps[0]["id"]) if steps else None, set())
    rest: list[dict[str, Any]] = []
    for step in steps:
        if str(step.get("id")) not in placed:
            more, _ = sequence(str(step.get("id")), set())
            rest.extend(more)
    return main, rest


def arm_words(step: Mapping[str, Any], label: str) -> str:
    """How the outline labels an arm: ``Yes``, ``No``, ``Branch A (50%)`` …"""
    if label.startswith("branch:"):
        name = label.removeprefix("branch:")
        share = next(
            (b.get("percent") for b in step.get("branches") or [] if b.get("name") == name), ""
        )
        return f"Branch {name} ({share}%)"
    return ARM_LABELS.get(label, label)


# -- where each step goes -----------------------------------------------------------------


def step_choices(nodes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every step of the outline as a place runs may go, in the order the outline shows
    them: ``(id, words)``, the words being the id, a dash and the step's summary."""
    found: list[tuple[str, str]] = []
    for node in nodes:
        found.append((node["id"], f"{node['id']} \N{EN DASH} {summary(node['step'])}"))
        for arm in node["arms"]:
            found.extend(step_choices(arm["nodes"]))
    return found


def route_fields(
    document: Mapping[str, Any], step: Mapping[str, Any], choices: list[tuple[str, str]]
) -> list[Field]:
    """The step's "goes to" choices: one per arm of a branching step (``then``/``else``,
    ``on_event``/``on_timeout``, each split branch's ``next``), a linear step's optional
    ``next``; none for an exit, which ends the run."""
    step_id = str(step.get("id"))
    prefix = f"s.{step_id}."
    options = [
        (value, f"{words} (this step again)" if value == step_id else words)
        for value, words in choices
    ]
    if step.get("type") == "split":
        return [
            _route(f"{prefix}b{n}.next", f"Branch {b.get('name')} goes to", b.get("next"), options)
            for n, b in enumerate(step.get("branches") or [])
            if isinstance(b, dict)
        ]
    if is_linear(step):
        default = ("", _carry_on_words(document, step_id, dict(choices)))
        return [_route(prefix + "next", "Then goes to", step.get("next"), [default, *options])]
    return [
        _route(prefix + label, ROUTE_LABELS.get(label, f"{label} goes to"), target, options)
        for label, target in arms(step)
    ]


def _carry_on_words(document: Mapping[str, Any], step_id: str, words: dict[str, str]) -> str:
    """What a linear step without ``next`` does: go on to the step after it in the list, or
    end the run when it is the last one."""
    steps = [s for s in document.get("steps") or [] if isinstance(s, dict)]
    n = editing.position({"steps": steps}, step_id)
    plain = [*steps[:n], {**steps[n], "next": None}, *steps[n + 1 :]]
    after = following({"steps": plain}, n)
    if after is None:
        return "End the run here"
    return f"Carry on to the next step ({words.get(after, after)})"


def _route(name: str, label: str, target: Any, options: list[tuple[str, str]]) -> Field:
    """One "goes to" select; a target that is not one of the steps stays shown as it is, for
    the validator's error to be read against."""
    value = "" if target is None else str(target)
    pairs = list(options)
    if value not in dict(pairs):
        missing = "Choose a step" if value == "" else f"{value} (not a step of this journey)"
        pairs.insert(0, (value, missing))
    return {
        "name": name,
        "label": label,
        "value": value,
        "kind": "select",
        "options": pairs,
        "swaps": True,
    }


def form_fields(views: Any) -> dict[str, Field]:
    """Every form field in ``views`` (nested lists and dicts of the page's parts), by name."""
    found: dict[str, Field] = {}
    pending = [views]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("name"), str) and "label" in item and "kind" in item:
                found.setdefault(item["name"], item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return found


def worded(problem: Problem, fields: Mapping[str, Field]) -> Problem:
    """``problem`` as a sentence naming its field by the form's label (``Fill in “Event”``)
    when it came from a validation error about a field on the form; the sentence then names
    the field itself (``field`` stays, so the problem still lands on its input)."""
    name = problem_input(problem)
    shown = fields.get(name) if name else None
    if problem.detail is None or shown is None or not shown.get("label"):
        return problem
    label = str(shown["label"]).removesuffix(": unit")
    sentence = say.sentence(problem.detail, say.quoted(label), choose=shown["kind"] == "select")
    return dataclasses.replace(problem, message=sentence, named=True)


def place_problems(found: list[Problem]) -> dict[str, list[Problem]]:
    """Problems by the step (or part) they concern."""
    placed: dict[str, list[Problem]] = {}
    for problem in found:
        placed.setdefault(problem.place, []).append(problem)
    return placed


def input_id(name: str) -> str:
    """An HTML id for a field name (ids are slugs, so this is unambiguous)."""
    return "f-" + name.replace(".", "--").replace(":", "-")


def problem_input(problem: Problem) -> str | None:
    """The field name a problem concerns in the form, when it has one."""
    if problem.field is None:
        return None
    prefix = {"trigger": "t.", "entry": "e.", "goal": "g."}.get(problem.place)
    if prefix is None:
        prefix = f"s.{problem.place}."
    field = problem.field
    if field.startswith("condition."):
        field = "c." + field.removeprefix("condition.")
    if field in ("duration", "timeout"):
        field += "_amount"
    if field.startswith("branches."):
        _, n, rest = [*field.split("."), "", ""][:3]
        field = f"b{n}.{rest or 'percent'}"
    return prefix + field


def step_view(step: Mapping[str, Any], templates: list[str]) -> dict[str, Any]:
    """What the editor shows of one step."""
    step_id = str(step.get("id"))
    prefix = f"s.{step_id}."
    view: dict[str, Any] = {
        "id": step_id,
        "type": step.get("type"),
        "kind": KIND_WORDS.get(str(step.get("type")), str(step.get("type"))),
        "summary": summary(step),
        "prefix": prefix,
        "fields": step_fields(step, prefix, templates),
        "branching": step.get("type") in editing.BRANCHING,
        "linear": is_linear(step),
        "arms": [(label, arm_words(step, label), target) for label, target in arms(step)],
        "same_way": len({t for _, t in arms(step)}) == 1,
    }
    if step.get("type") == "if":
        view["condition"] = condition_fields(step.get("condition"), prefix + "c.", templates)
    if step.get("type") == "split":
        view["branches"] = branch_rows(step, prefix)
    return view


def goal_fields(goal: Any, steps: list[str], templates: list[str]) -> dict[str, Any]:
    """The goal: whether there is one, its condition and where it sends a run."""
    data = goal if isinstance(goal, dict) else None
    return {
        "on": _check("g.on", "This journey has a goal", data is not None),
        "condition": condition_fields(
            (data or {}).get("condition", {"kind": "purchased_since_entered"}), "g.c.", templates
        ),
        "step": _select(
            "g.step",
            "When it is reached",
            (data or {}).get("step") or "",
            {"": "End the run as converted", **{s: f"Go to {s}" for s in steps}},
        ),
    }


def edit_context(
    document: Mapping[str, Any],
    *,
    templates: list[str],
    found: list[Problem] | None = None,
) -> dict[str, Any]:
    """Everything the editor page shows of a (draft) definition and its problems."""
    steps = [s for s in document.get("steps") or [] if isinstance(s, dict)]
    ids = [str(s.get("id")) for s in steps]
    main, rest = outline(document)

    choices = step_choices(main) + step_choices(rest)
    raw = list(found or [])
    placed = place_problems(raw)

    def attach(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            node["view"] = step_view(node["step"], templates)
            node["view"]["routes"] = route_fields(document, node["step"], choices)
            if node["id"] in placed:  # a target's error is the step's (the validator's words)
                for route in node["view"]["routes"]:
                    route["describedby"] = f"problems-{node['id']}"
            for arm in node["arms"]:
                arm["words"] = arm_words(node["step"], arm["label"])
                attach(arm["nodes"])

    attach(main)
    attach(rest)
    parts = {
        "trigger": trigger_fields(document.get("trigger")),
        "entry": entry_fields(document.get("entry")),
        "goal": goal_fields(document.get("goal"), ids, templates),
    }
    fields = form_fields([parts, main, rest])
    problems = [worded(problem, fields) for problem in raw]
    placed = place_problems(problems)
    by_field: dict[str, list[Problem]] = {}
    for problem in problems:
        if name := problem_input(problem):
            by_field.setdefault(name, []).append(problem)
    return {
        "document": document,
        **parts,
        "outline": main,
        "unreached": rest,
        "step_ids": ids,
        "problems": problems,
        "by_place": placed,
        "fields_wrong": set(by_field),
        "by_field": by_field,
        "insertable": [(kind, KIND_WORDS[kind]) for kind in editing.INSERTABLE],
    }
