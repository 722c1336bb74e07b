"""The audience builder's form: the rule tree as fields, and the posted form read back into
the tree. Pure.

Field names follow the journey editor's (:mod:`lealta.console.journey_edit_form`), whose
readers and fields the kinds both know are reused: the root condition is ``c.``, the
conditions inside an ``all``/``any`` ``c.<n>.`` and the one inside a ``not`` ``c.x.``; a
field is its prefix and its name (``c.1.gte``). Audiences add what only they need (what was
bought, RFM scores, another audience) and leave out what only a workflow run knows (since
the run entered).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from lealta.console.journey_edit_form import OPS, blank_condition, condition_fields, read_condition

Form = Mapping[str, str]
ROOT = "c."
KINDS = {
    "event_count": "Did an event (a number of times)",
    "bought": "Bought (orders, items or amount)",
    "attribute": "Attribute",
    "tag": "Has a tag",
    "list": "Is on a list",
    "consent": "Consent for a channel",
    "stage": "Lifecycle stage is",
    "segment": "RFM segment is",
    "rfm": "RFM scores",
    "cluster": "Cluster is",
    "loyalty_tier": "Loyalty tier is",
    "loyalty_points": "Loyalty points balance is between",
    "score": "Lead score is between",
    "message": "Opened or clicked an e-mail",
    "audience": "Is in another audience",
    "next_best": "Next-best item is (product affinity)",
    "all": "All of these",
    "any": "Any of these",
    "not": "Not",
}
NEW_RULE: dict[str, Any] = {"kind": "event_count", "event": "Order Completed", "gte": 1}
MEASURES = {"orders": "orders", "quantity": "items bought", "amount": "amount spent"}
LETTERS = ("r", "f", "m", "p")
GROUPS = ("all", "any")


def blank(kind: str) -> dict[str, Any]:
    """A new condition of ``kind`` for the marketer to fill in."""
    blanks: dict[str, dict[str, Any]] = {
        "bought": {"measure": "orders"},
        "rfm": {"r": {"gte": 4}},
        "audience": {"audience": ""},
        "next_best": {"category": "", "top": 1},
        "all": {"conditions": [copy.deepcopy(NEW_RULE)]},
        "any": {"conditions": [copy.deepcopy(NEW_RULE)]},
        "not": {"condition": copy.deepcopy(NEW_RULE)},
    }
    if kind not in blanks:
        return blank_condition(kind)
    return {"kind": kind, **copy.deepcopy(blanks[kind])}


def read(form: Form, base: Any, prefix: str = ROOT) -> dict[str, Any]:
    """The condition posted under ``prefix`` over ``base`` (the draft's): what the form shows
    replaces the draft's values, what it does not show (an event's ``where`` tests) stays."""
    old = base if isinstance(base, dict) else {}
    kind = form.get(f"{prefix}kind", old.get("kind", NEW_RULE["kind"]))
    if kind not in KINDS:  # not one the form offers: the draft's stays
        kind = str(old.get("kind") or NEW_RULE["kind"])
        form = {**form, f"{prefix}kind": kind}
    if old.get("kind") not in (None, kind):  # the old kind's fields were posted, not the new's
        form = _without_fields_of(form, old, prefix)
    found = copy.deepcopy(old) if old.get("kind") == kind else blank(kind)
    if kind in GROUPS and old.get("kind") in GROUPS:  # all <-> any keeps its rules
        found = {**copy.deepcopy(old), "kind": kind}
    if kind in ("all", "any"):
        children = found.get("conditions") or []
        found["conditions"] = [
            read(form, child, f"{prefix}{n}.") for n, child in enumerate(children)
        ]
        return found
    if kind == "not":
        found["condition"] = read(form, found.get("condition"), f"{prefix}x.")
        return found
    if kind == "bought":
        return _read_bought(form, prefix, found)
    if kind == "rfm":
        return _read_rfm(form, prefix, found)
    if kind == "next_best":
        return _read_next_best(form, prefix, found)
    if kind == "audience":
        found["audience"] = form.get(f"{prefix}audience", found.get("audience", "")).strip()
        return _known(found)
    shared: dict[str, Any] = read_condition(form, prefix, found)
    if kind == "event_count":
        _read_where(form, prefix, shared)
    return _known(shared)


def _without_fields_of(form: Form, old: dict[str, Any], prefix: str) -> dict[str, str]:
    """``form`` without the fields the rule's previous kind showed at ``prefix`` (a list's
    status is no consent's decision)."""
    shown = {f["name"] for f in fields(old, [], prefix)["fields"] if f.get("name")}
    shown |= {name + "~" for name in shown}
    return {key: value for key, value in form.items() if key not in shown}


def _read_where(form: Form, prefix: str, found: dict[str, Any]) -> None:
    """The first of an event rule's property tests, as the form shows it (the others, written
    in YAML, stay)."""
    if prefix + "where_property" not in form:
        return
    rest = list(found.get("where") or [])[1:]
    name = form[prefix + "where_property"].strip()
    if not name:
        found["where"] = rest
        return
    op = form.get(prefix + "where_op", "equals").strip() or "equals"
    value: Any = form.get(prefix + "where_value", "").strip()
    if op == "in":
        value = [part.strip() for part in value.split(",") if part.strip()]
    found["where"] = [{"property": name, "op": op, "value": value}, *rest]


def _allowed() -> dict[str, set[str]]:
    """Each kind's field names (aliases as written), from the condition models."""
    import typing

    from lealta.conditions.model import ConditionSpec

    found: dict[str, set[str]] = {}
    union = typing.get_args(ConditionSpec)[0]
    for model in typing.get_args(union):
        names = {info.alias or name for name, info in model.model_fields.items()}
        found[str(model.model_fields["kind"].default)] = names
    return found


ALLOWED = _allowed()


def _known(condition: dict[str, Any]) -> dict[str, Any]:
    """``condition`` without the fields its kind does not have (those the form of the kind
    chosen before posted)."""
    names = ALLOWED.get(str(condition.get("kind")), set(condition))
    return {key: value for key, value in condition.items() if key in names}


def _read_bought(form: Form, prefix: str, found: dict[str, Any]) -> dict[str, Any]:
    for name in ("product", "category", "gte", "lte", "within_days"):
        if prefix + name in form:
            found[name] = form[prefix + name].strip() or None
    if prefix + "measure" in form:
        found["measure"] = form[prefix + "measure"].strip()
    return _known({key: value for key, value in found.items() if value is not None})


def _read_next_best(form: Form, prefix: str, found: dict[str, Any]) -> dict[str, Any]:
    for name in ("category", "product", "top"):
        if prefix + name in form:
            found[name] = form[prefix + name].strip() or None
    return _known({key: value for key, value in found.items() if value not in (None, "")})


def _read_rfm(form: Form, prefix: str, found: dict[str, Any]) -> dict[str, Any]:
    for letter in LETTERS:
        low, high = f"{prefix}{letter}_gte", f"{prefix}{letter}_lte"
        if low not in form and high not in form:
            continue
        wanted = {"gte": form.get(low, "").strip(), "lte": form.get(high, "").strip()}
        wanted = {end: value for end, value in wanted.items() if value}
        found[letter] = wanted or None
    return _known({key: value for key, value in found.items() if value is not None})


def fields(
    condition: Any, audiences: list[str], prefix: str = ROOT, templates: list[str] | None = None
) -> dict[str, Any]:
    """What the form shows of a condition: its kind, its fields and the conditions inside
    it (``audiences``: the names another-audience conditions choose from; ``templates``:
    the e-mail templates a message condition chooses from)."""
    templates = templates or []
    data = condition if isinstance(condition, dict) else dict(NEW_RULE)
    kind = str(data.get("kind"))
    view: dict[str, Any] = {"prefix": prefix, "kind": kind, "kinds": KINDS, "children": []}
    if kind in ("all", "any"):
        view["fields"] = []
        view["children"] = [
            fields(child, audiences, f"{prefix}{n}.", templates)
            for n, child in enumerate(data.get("conditions") or [])
        ]
    elif kind == "not":
        view["fields"] = []
        view["children"] = [fields(data.get("condition"), audiences, f"{prefix}x.", templates)]
    elif kind == "bought":
        view["fields"] = _bought_fields(prefix, data)
    elif kind == "rfm":
        view["fields"] = [
            _input(
                f"{prefix}{letter}_{end}",
                f"{letter.upper()} {words}",
                (data.get(letter) or {}).get(end),
            )
            for letter in LETTERS
            for end, words in (("gte", "at least"), ("lte", "at most"))
        ]
    elif kind == "next_best":
        view["fields"] = [
            _input(prefix + "category", "Category", data.get("category"),
                   hint="Give a category or a product id, not both."),
            _input(prefix + "product", "Product id", data.get("product")),
            _input(prefix + "top", "Among the first", data.get("top", 1), kind="number",
                   hint="1: it is their next-best item; 3: one of their three best."),
        ]  # fmt: skip
    elif kind == "audience":
        view["fields"] = [
            _select(prefix + "audience", "Audience", data.get("audience"), ["", *audiences])
        ]
    else:
        shared = condition_fields(data, prefix, templates)["fields"]
        view["fields"] = [f for f in shared if not str(f.get("name", "")).endswith("since_entered")]
        if kind == "event_count":
            view["fields"] = [f for f in view["fields"] if f.get("kind") != "note"]
            view["fields"] += _where_fields(prefix, data.get("where") or [])
        if kind == "message":  # outside a workflow a window is what limits it
            view["fields"].append(
                _input(prefix + "within_days", "Within the last days (optional)",
                       data.get("within_days"), kind="number")
            )  # fmt: skip
    return view


def _where_fields(prefix: str, where: list[Any]) -> list[dict[str, Any]]:
    first = where[0] if where and isinstance(where[0], dict) else {}
    value = first.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    found = [
        _input(prefix + "where_property", "Only where property (optional)", first.get("property"),
               hint="e.g. category"),
        _select(prefix + "where_op", "Test", first.get("op", "equals"), list(OPS)),
        _input(prefix + "where_value", "Value", shown),
    ]  # fmt: skip
    if len(where) > 1:
        more = len(where) - 1
        note = f"And {more} more property test{'s' if more > 1 else ''}, kept as written in YAML."
        found.append({"name": "", "label": note, "kind": "note", "value": ""})
    return found


def _bought_fields(prefix: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        _select(prefix + "measure", "Count", data.get("measure", "orders"), MEASURES),
        _input(prefix + "category", "Category (optional)", data.get("category")),
        _input(prefix + "product", "Product id (optional)", data.get("product")),
        _input(prefix + "gte", "At least (optional)", data.get("gte"), kind="number"),
        _input(prefix + "lte", "At most (optional)", data.get("lte"), kind="number"),
        _input(
            prefix + "within_days",
            "Within the last days (optional)",
            data.get("within_days"),
            kind="number",
            hint="Without bounds: bought at least once.",
        ),
    ]


def _input(
    name: str, label: str, value: Any, *, kind: str = "text", hint: str = ""
) -> dict[str, Any]:
    shown = "" if value is None else value
    return {"name": name, "label": label, "value": shown, "kind": kind, "hint": hint}


def _select(name: str, label: str, value: Any, options: Any) -> dict[str, Any]:
    pairs = (
        list(options.items())
        if isinstance(options, dict)
        else [(o, o or "choose…") for o in options]
    )
    if value not in (None, "") and value not in dict(pairs):
        pairs.insert(0, (value, f"{value} (not stored)"))
    return {"name": name, "label": label, "value": value, "kind": "select", "options": pairs}


def add_rule(condition: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``condition`` with a new rule at the end of the ``all``/``any`` at ``prefix``; a root
    that is a single rule becomes an ``all`` of it and the new one."""
    found = copy.deepcopy(condition)
    holder = _at(found, prefix)
    if holder is found and found.get("kind") not in ("all", "any"):
        return {"kind": "all", "conditions": [found, copy.deepcopy(NEW_RULE)]}
    if holder is not None and holder.get("kind") in ("all", "any"):
        holder.setdefault("conditions", []).append(copy.deepcopy(NEW_RULE))
    return found


def remove_rule(condition: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``condition`` without the rule at ``prefix`` (a rule inside an ``all``/``any``)."""
    found = copy.deepcopy(condition)
    parts = prefix.removeprefix(ROOT).strip(".").split(".")
    if not parts or not parts[-1].isdigit():
        return found
    parent = _at(found, ROOT + ".".join(parts[:-1]) + ("." if parts[:-1] else ""))
    if parent is not None and parent.get("kind") in ("all", "any"):
        index = int(parts[-1])
        if 0 <= index < len(parent.get("conditions") or []):
            del parent["conditions"][index]
    return found


def _at(condition: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    here: Any = condition
    for part in [p for p in prefix.removeprefix(ROOT).split(".") if p]:
        if not isinstance(here, dict):
            return None
        if part == "x":
            here = here.get("condition")
        elif part.isdigit() and int(part) < len(here.get("conditions") or []):
            here = here["conditions"][int(part)]
        else:
            return None
    return here if isinstance(here, dict) else None


def field_of(place: str) -> str:
    """The form field a problem's place names: ``condition.conditions.1.gte`` → ``c.1.gte``,
    ``condition.condition.within_days`` (inside a ``not``) → ``c.x.within_days``; an RFM
    range's end ``condition.r.gte`` → ``c.r_gte``."""
    parts = place.split(".")
    if not parts or parts[0] != "condition":
        return place
    out: list[str] = []
    rest = parts[1:]
    while rest:
        head = rest.pop(0)
        if head == "conditions" and rest and rest[0].isdigit():
            out.append(rest.pop(0))
        elif head == "condition":
            out.append("x")
        elif head in LETTERS and rest and rest[0] in ("gte", "lte"):
            out.append(f"{head}_{rest.pop(0)}")
        elif head == "where" and rest[:1] == ["0"] and len(rest) > 1:  # the test the form shows
            out.append(f"where_{rest[1]}")
            rest = rest[2:]
        else:
            out.append(head)
    return ROOT + ".".join(out)


def rule_label(prefix: str) -> str:
    """Where a rule is, for a person: ``c.1.`` → ``Rule 2``, ``c.2.x.0.`` → ``Rule 3.1``
    (inside a ``not``), ``c.`` → ``The rules``."""
    parts = [p for p in prefix.removeprefix(ROOT).split(".") if p and p != "x"]
    if not parts:
        return "The rules"
    return "Rule " + ".".join(str(int(p) + 1) for p in parts if p.isdigit())


# What a field is called in a problem about it ("Fill in the tag"), where its label is not
# already the plainest noun; by the field's name, then by the rule's kind and the name.
NOUNS = {
    "tag": "the tag",
    "list": "the list",
    "name": "the attribute",
    "value": "the value",
    "event": "the event",
    "template": "the e-mail",
    "audience": "the audience",
    "channel": "the channel",
    "category": "the category",
    "product": "the product id",
    "where_property": "the property",
    "where_op": "the property's test",
    "where_value": "the property's value",
    "at_least": "the tier",
}
KIND_NOUNS = {
    ("stage", "in"): "at least one lifecycle stage",
    ("segment", "in"): "at least one RFM segment",
    ("cluster", "in"): "at least one cluster",
    ("loyalty_tier", "in"): "the tiers",
    ("consent", "status"): "the decision",
    ("list", "status"): "the status",
}


def noun(kind: str, name: str, label: str) -> str:
    """How a problem names the field ``name`` (without its rule's prefix) of a ``kind`` rule:
    a plain noun, or else its label in quotes."""
    found = KIND_NOUNS.get((kind, name)) or NOUNS.get(name)
    return found or f"“{short(label)}”"


def short(label: str) -> str:
    """A field's label without saying it is optional (a problem names it, so it matters)."""
    return label.replace(" (optional)", "").replace(", optional)", ")")
