"""Checking a template when it is saved. Pure.

:func:`check` lists every problem with the part and line it is on:

* **errors** (the template is not saved): a body that does not fit the channel, broken
  syntax, an unknown filter, an include/import, a recursive loop, an attribute starting with
  ``_``, or a variable that is not in the render context (``contcat.first_name``);
* **warnings**: an unknown field of a context object with known fields (``rfm.segmnet``,
  ``links.unsubscribe_url``), or MJML that may not convert.

The render context (built by :mod:`lealta.messages.context`) is documented in
:data:`CONTEXT`; ``contact.*`` (any custom attribute) and ``payload.*`` (whatever the workflow
step passes) accept any field.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from lealta.errors import InvalidInput
from lealta.messages import sandbox
from lealta.messages.model import HTML_PARTS, normalize_channel, parse_body
from lealta.messages.problems import Problem, TemplateInvalid

ANY: frozenset[str] = frozenset()
# Top-level names of the render context; the set lists known fields, ANY accepts every field.
CONTEXT: dict[str, frozenset[str]] = {
    "contact": ANY,
    "payload": ANY,
    "purchases": ANY,
    "vouchers": ANY,
    "now": ANY,
    "last_order": frozenset(
        {"id", "placed_at", "amount", "currency", "channel", "payment_method", "items",
         "categories"}
    ),
    "rfm": frozenset(
        {"segment", "code", "r", "f", "m", "p", "recency_days", "frequency", "monetary",
         "payment", "cluster", "cluster_name", "as_of"}
    ),
    "voucher": frozenset(
        {"code", "display", "kind", "value", "currency", "issued_at", "expires_at"}
    ),
    "loyalty": frozenset(
        {"tier", "since", "until", "qualified_by", "score_sum", "next_tier", "program",
         "currency", "benefits", "points", "progress"}
    ),
    "trigger": frozenset({"name", "event", "type", "properties", "occurred_at", "at"}),
    "links": frozenset({"unsubscribe", "preferences", "survey"}),
    "shop": frozenset({"name", "email", "url"}),
}  # fmt: skip
_MUTATING = frozenset(
    {"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "setdefault",
     "add", "discard", "sort", "reverse"}
)  # fmt: skip
# Filters whose first argument names an attribute.
_ATTRIBUTE_FILTERS = frozenset({"attr", "selectattr", "rejectattr", "groupby"})
# Names Jinja itself provides.
_JINJA = frozenset(
    {"range", "dict", "namespace", "cycler", "joiner", "loop", "caller", "varargs", "kwargs",
     "self", "true", "false", "none", "True", "False", "None"}
)  # fmt: skip


def check(channel: str, body: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``body`` as a template for ``channel`` (empty when it is fine)."""
    try:
        parsed = parse_body(normalize_channel(channel), body)
    except InvalidInput as exc:
        return [Problem("error", exc.field or "body", str(exc))]
    problems: list[Problem] = []
    for label, source, html in sources(parsed):
        problems.extend(check_source(source, part=label, html=html))
        if label.endswith("mjml"):
            problems.extend(_check_mjml(source, label))
    return problems


def ensure_valid(channel: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """``body`` as stored, and its warnings.

    Raises
    ------
    TemplateInvalid
        When there is any error (all problems attached, the first named in the message).
    """
    problems = check(channel, body)
    if any(p.severity == "error" for p in problems):
        raise TemplateInvalid(problems)
    return parse_body(normalize_channel(channel), body), problems


def sources(body: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """Every template string in ``body``: (label, source, whether it is HTML)."""
    for name, value in body.items():
        if name == "variants" and isinstance(value, Mapping):
            for code, parts in value.items():
                if isinstance(parts, Mapping):
                    for label, source, html in sources(parts):
                        yield f"variants.{code}.{label}", source, html
        elif name != "track_links":
            yield from _strings(value, name, name in HTML_PARTS)


def _strings(value: Any, label: str, html: bool) -> Iterator[tuple[str, str, bool]]:
    if isinstance(value, str):
        yield label, value, html
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{label}.{key}", html)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{label}[{index}]", html)


def check_source(source: str, *, part: str, html: bool = False) -> list[Problem]:
    """The problems of one template string."""
    try:
        sandbox.compiled(source, part=part, html=html)
        tree = sandbox.parse(source, part=part)
    except TemplateSyntaxError as exc:
        return [Problem("error", part, exc.message or str(exc), exc.lineno)]
    problems: list[Problem] = []
    seen: set[tuple[str, str | None, int]] = set()
    local = _local_names(tree)
    for name, field, line in _references(tree):
        if name in local or name in _JINJA:
            continue
        known = CONTEXT.get(name)
        key = (name, None if known is None else field, line)
        if key in seen:
            continue
        seen.add(key)
        if known is None:
            problems.append(Problem("error", part, _unknown_name(name), line))
        elif field is not None and known and field not in known:
            fields = ", ".join(sorted(known))
            problems.append(
                Problem("warning", part, f"{name} has no field {field!r} (it has {fields})", line)
            )
    for attribute, line in _private_attributes(tree):
        problems.append(
            Problem(
                "error", part, f"attributes starting with '_' are not allowed ({attribute})", line
            )
        )
    problems.extend(_refused_calls(tree, part))
    if not any(p.severity == "error" for p in problems):
        problems.extend(_over_limits(source, part=part, html=html))
    return problems


def _over_limits(source: str, *, part: str, html: bool) -> list[Problem]:
    """A limit the template goes over whatever the data (a rendering without any)."""
    from lealta.messages.render import try_render

    failed = try_render(source, part=part, html=html)
    if failed is None or failed.kind != "limit":
        return []  # anything else may depend on the data it will get
    message = str(failed).removeprefix(f"{part}: ").removeprefix(f"{part} line {failed.line}: ")
    return [Problem("error", part, message, failed.line)]


def _unknown_name(name: str) -> str:
    close = difflib.get_close_matches(name, list(CONTEXT), n=1)
    hint = f"did you mean {close[0]}?" if close else f"did you mean contact.{name}?"
    return f"unknown variable {name!r}: {hint} (available: {', '.join(sorted(CONTEXT))})"


def _local_names(tree: nodes.Template) -> set[str]:
    """Names the template defines itself (loop targets, ``set``, macros and their args)."""
    found = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    found.update(m.name for m in tree.find_all(nodes.Macro))
    return found


def _references(tree: nodes.Template) -> Iterator[tuple[str, str | None, int]]:
    """(name, first field or None, line) for each variable read."""
    chained: set[int] = set()
    for node in _lookups(tree):
        inner = node.node
        if isinstance(inner, nodes.Name) and inner.ctx == "load":
            field = _field_name(node)
            if field is not None:
                chained.add(id(inner))
                yield inner.name, field, node.lineno
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and id(name) not in chained:
            yield name.name, None, name.lineno


def _lookups(tree: nodes.Template) -> Iterator[nodes.Getattr | nodes.Getitem]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            yield node


def _field_name(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _private_attributes(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    for node in _lookups(tree):
        field = _field_name(node)
        if field is not None and field.startswith("_"):
            yield field, node.lineno


def _refused_calls(tree: nodes.Template, part: str) -> Iterator[Problem]:
    """Calls the sandbox refuses at send time, found ahead: changing data, str methods that
    pad or repeat, and filters told to fetch private attributes."""
    for call in tree.find_all(nodes.Call):
        target = call.node
        if isinstance(target, nodes.Getattr) and target.attr in _MUTATING:
            yield Problem(
                "error", part, f"templates cannot change data (.{target.attr})", call.lineno
            )
    for node in _lookups(tree):
        if (
            isinstance(node, nodes.Getattr)
            and isinstance(node.node, nodes.Const)
            and isinstance(node.node.value, str)
            and node.attr in sandbox.BLOCKED_STR_METHODS
        ):
            hint = "use the format filter" if node.attr.startswith("format") else "use filters"
            yield Problem(
                "error", part, f"the string method {node.attr} is not allowed; {hint}", node.lineno
            )
    for found in tree.find_all(nodes.Filter):
        values = [pair.value for pair in found.kwargs if pair.key == "attribute"]
        if found.name in _ATTRIBUTE_FILTERS and found.args:
            values.append(found.args[0])
        for value in values:
            if isinstance(value, nodes.Const) and str(value.value).startswith("_"):
                yield Problem(
                    "error",
                    part,
                    f"attributes starting with '_' are not allowed ({value.value})",
                    found.lineno,
                )


def _check_mjml(source: str, part: str) -> list[Problem]:
    if "{%" in source:  # loops and conditions make the raw source no valid MJML yet
        return []
    from lealta.messages.problems import RenderError
    from lealta.messages.render import mjml_to_html

    try:
        mjml_to_html(source)
    except RenderError as exc:
        return [Problem("warning", part, str(exc).removeprefix("mjml: "))]
    return []
