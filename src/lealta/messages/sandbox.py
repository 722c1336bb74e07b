"""The Jinja2 sandbox templates run in, and the limits on what one rendering may do. Pure.

Templates are written by people with an admin key, but they are still treated as untrusted
code, because a template is rendered with every customer's data:

* **No internals.** :class:`LealtaSandbox` is Jinja2's immutable sandbox (no attribute that
  starts with ``_``, no ``func_globals``/``gi_frame``-style internals, no mutating lists or
  dicts). Reaching for an unsafe attribute raises :class:`jinja2.exceptions.SecurityError` at
  once, instead of Jinja's default of quietly rendering nothing, so the author learns why.
* **No files.** ``include``, ``import``, ``from`` and ``extends`` are refused when a template
  is compiled, and the environment's loader refuses every name as a second line of defence.
* **Bounded work.** Each rendering's loops may take :data:`MAX_STEPS` items in all, and it
  gets a :class:`Budget` of work units: every item a loop takes (plus the literal text its
  body writes), every character an expression outputs, and
  every string or list built by ``~``, ``+``, ``*``, ``%`` and the filters that can grow text
  (``join``, ``replace``, ``center``, ``indent``, ``format``) is charged to it; ``range`` is
  charged when made. String methods that pad or repeat (``ljust``, ``zfill``, ``format`` …)
  are not reachable, and ``recursive`` loops are refused. Running out raises
  :class:`LimitExceeded`. Each part's output is also capped (:data:`MAX_OUTPUT`).
* **Bounded numbers.** Integer arithmetic is not charged by size, so it is bounded instead:
  ``+``, ``-``, ``*`` and ``**`` refuse a result over :data:`MAX_INT_BITS` bits (about 1,200
  digits) before computing it, so squaring a huge number again and again stops at once, and
  float results too large to represent are refused rather than raising ``OverflowError``.

Compiled templates are cached by source, so rendering one template for many people parses
it once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import BaseLoader, ChainableUndefined, StrictUndefined, Template, meta, nodes
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Context, Undefined, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_context
from jinja2.visitor import NodeTransformer

MAX_WORK = 10_000_000  # work units (≈ characters produced, loop items) per rendering
MAX_STEPS = 100_000  # loop items per rendering
MAX_OUTPUT = 2_000_000  # characters in one rendered part
MAX_WIDTH = 1_000  # padding widths (center, indent, "%10s")
MAX_INT_BITS = 4_096  # ≈ 1,233 decimal digits: far beyond any price, count or date
MAX_POWER_BITS = MAX_INT_BITS
# str methods that pad, repeat or expand: filters with limits do the same jobs.
BLOCKED_STR_METHODS = frozenset(
    {"center", "expandtabs", "format", "format_map", "join", "ljust", "replace", "rjust", "zfill"}
)
WIDE_PERCENT = re.compile(r"%[-#0 +]*(?:\*|\d{4,})|%[-#0 +]*\d*\.(?:\*|\d{4,})")


class LimitExceeded(SecurityError):
    """A rendering went over a limit (output size or work)."""


@dataclass
class Budget:
    """What is left to one rendering, and the settings filters format with."""

    work: int = MAX_WORK
    steps: int = MAX_STEPS
    language: str | None = None
    timezone: str | None = None
    now: dt.datetime | None = None

    def charge(self, units: int) -> None:
        """Spend ``units``; :class:`LimitExceeded` when the budget is gone."""
        self.work -= units
        if self.work < 0:
            raise LimitExceeded(
                f"the template does too much work (over {MAX_WORK:,} units of output and loop "
                "steps); simplify its loops"
            )

    def step(self, units: int) -> None:
        """One loop item writing ``units`` of literal text."""
        self.steps -= 1
        if self.steps < 0:
            raise LimitExceeded(f"the template's loops take more than {MAX_STEPS:,} items")
        self.charge(units)


_CURRENT: ContextVar[Budget | None] = ContextVar("lealta_render_budget", default=None)


def current() -> Budget:
    """The budget of the rendering under way; outside any (constants folded while compiling),
    a throwaway one."""
    found = _CURRENT.get()
    return found if found is not None else Budget()


def active() -> bool:
    """Whether a rendering (:func:`rendering`) is under way."""
    return _CURRENT.get() is not None


@contextmanager
def rendering(
    *, language: str | None = None, timezone: str | None = None, now: dt.datetime | None = None
) -> Iterator[Budget]:
    """A fresh budget for the rendering done inside the block."""
    budget = Budget(language=language, timezone=timezone, now=now)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


class LealtaSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, made loud about unsafe access and bounded in work."""

    intercepted_binops = frozenset({"+", "-", "*", "**", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A key wins over a dict method: ``order.items`` is the order's items, not dict.items.
        if type(obj) is dict:  # most values: a plain dict needs no abstract-class check
            if attribute in obj:
                return obj[attribute]
        elif isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in BLOCKED_STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        # str.format is refused outright (is_safe_attribute); the format filter has limits.
        return None

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"templates may not use {attribute!r} of a {type(obj).__name__} value")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int):
            _check_int_result(operator, left, right)
        try:
            return self._charged_binop(context, operator, left, right)
        except OverflowError:
            raise LimitExceeded("that number is too large for a template") from None

    def _charged_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = current()
        if operator == "*":
            count = right if isinstance(right, int) else left if isinstance(left, int) else 0
            budget.charge(max(_size(left), _size(right)) * max(count, 0))
        elif operator == "+":
            budget.charge(_size(left) + _size(right))
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            if WIDE_PERCENT.search(left):
                raise LimitExceeded(f"formatting widths above {MAX_WIDTH - 1} are not allowed")
            result = left % right
            budget.charge(len(result))
            return result
        return super().call_binop(context, operator, left, right)


def _check_int_result(operator: str, left: int, right: int) -> None:
    """Refuse, before computing it, an integer result over :data:`MAX_INT_BITS` bits."""
    bits = {
        "+": max(left.bit_length(), right.bit_length()) + 1,
        "-": max(left.bit_length(), right.bit_length()) + 1,
        "*": left.bit_length() + right.bit_length(),
    }.get(operator, 0)
    if bits > MAX_INT_BITS:
        raise LimitExceeded(f"that number is too large for a template (over {MAX_INT_BITS:,} bits)")


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and max(base.bit_length(), 1) * exponent > MAX_POWER_BITS
    ):
        raise LimitExceeded("that power is too large for a template")


class _NoFiles(BaseLoader):
    """Templates are self-contained: no name can be loaded."""

    def get_source(self, environment: Any, template: str) -> Any:
        raise SecurityError(f"templates cannot include or import other templates ({template!r})")


# -- compile-time guard -----------------------------------------------------------------------

_REPEATED = (nodes.For, nodes.Macro, nodes.CallBlock)


def _literal_size(body: Sequence[nodes.Node]) -> int:
    """Characters of literal text ``body`` writes, not counting nested loops and macros
    (which charge for themselves)."""
    total = 0
    for node in body:
        if isinstance(node, nodes.TemplateData):
            total += len(node.data)
        elif not isinstance(node, _REPEATED):
            total += _literal_size(list(node.iter_child_nodes()))
    return total


def _charge_node(units: int, lineno: int) -> nodes.Output:
    call = nodes.Filter(nodes.Const(""), "lealta_charge", [nodes.Const(units)], [], None, None)
    return nodes.Output([call], lineno=lineno)


class _Guard(NodeTransformer):
    """Rewrites a parsed template so that loops, macros and ``~`` are charged to the budget,
    and refuses what templates may not do."""

    def _refuse(self, node: nodes.Node, what: str) -> nodes.Node:
        raise TemplateSyntaxError(f"{what} are not allowed in message templates", node.lineno)

    def visit_Include(self, node: nodes.Include) -> nodes.Node:
        return self._refuse(node, "includes")

    def visit_Extends(self, node: nodes.Extends) -> nodes.Node:
        return self._refuse(node, "extends")

    def visit_Import(self, node: nodes.Import) -> nodes.Node:
        return self._refuse(node, "imports")

    def visit_FromImport(self, node: nodes.FromImport) -> nodes.Node:
        return self._refuse(node, "imports")

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            return self._refuse(node, "recursive loops")
        self.generic_visit(node)
        cost = nodes.Const(1 + _literal_size(node.body))
        node.iter = nodes.Filter(node.iter, "lealta_loop", [cost], [], None, None)
        return node

    def visit_Macro(self, node: nodes.Macro) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _charge_node(1 + _literal_size(node.body), node.lineno))
        return node

    def visit_CallBlock(self, node: nodes.CallBlock) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _charge_node(1 + _literal_size(node.body), node.lineno))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(nodes.List(node.nodes), "lealta_concat", [], [], None, None)


# -- filters the guard inserts ------------------------------------------------------------------


@pass_context
def _loop(_context: Context, iterable: Any, cost: int) -> Iterator[Any]:
    budget = current()
    for item in iterable:
        budget.step(cost)
        yield item


@pass_context
def _charge(_context: Context, value: str, units: int) -> str:
    current().charge(units)
    return value


@pass_context
def _concat(context: Context, pieces: list[Any]) -> str:
    current().charge(sum(len(str(p)) for p in pieces if not isinstance(p, Undefined)))
    if context.eval_ctx.autoescape:
        return markup_join(pieces)
    return str_join(pieces)


def _range(*args: int) -> range:
    found = range(*args)
    current().charge(len(found))
    return found


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` output: ``None`` shows as nothing, and its size is charged."""
    if value is None:
        return ""
    if not isinstance(value, Undefined):
        current().charge(len(str(value)))
    return value


# -- environments and compiling -----------------------------------------------------------------


def _environment(*, html: bool, strict: bool) -> LealtaSandbox:
    from lealta.messages.filters import FILTERS

    env = LealtaSandbox(
        autoescape=html,
        undefined=StrictUndefined if strict else ChainableUndefined,
        loader=_NoFiles(),
        finalize=_finalize,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.pop("lipsum", None)
    env.globals["range"] = _range
    env.filters.update(FILTERS)
    env.filters.update({"lealta_loop": _loop, "lealta_charge": _charge, "lealta_concat": _concat})
    return env


_ENVIRONMENTS: dict[tuple[bool, bool], LealtaSandbox] = {}


def environment(*, html: bool, strict: bool = False) -> LealtaSandbox:
    """The sandbox for HTML parts (autoescaped) or text parts; ``strict`` makes a missing value
    an error instead of an empty string."""
    key = (html, strict)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _environment(html=html, strict=strict)
    return _ENVIRONMENTS[key]


def parse(source: str, *, part: str) -> nodes.Template:
    """The syntax tree of ``source`` (TemplateSyntaxError with the line when it is broken)."""
    return environment(html=False).parse(source, name=part)


@lru_cache(maxsize=2048)
def names_read(source: str) -> frozenset[str] | None:
    """The names template ``source`` may read from its context (those it does not set
    itself, and globals such as ``range``); ``None`` when it does not parse. Templates have
    no way to name a key of their context but by name, so no other key is ever read."""
    try:
        return frozenset(meta.find_undeclared_variables(parse(source, part="names")))
    except TemplateSyntaxError:
        return None


@lru_cache(maxsize=2048)
def compiled(source: str, *, part: str, html: bool, strict: bool = False) -> Template:
    """``source`` compiled in the sandbox, guarded; cached by its arguments.

    Raises
    ------
    TemplateSyntaxError
        When it does not parse, uses an unknown filter, or uses what templates may not
        (includes, imports, recursive loops); ``lineno`` says where.
    """
    env = environment(html=html, strict=strict)
    tree = _Guard().visit(env.parse(source, name=part))
    tree.set_environment(env)
    code = env.compile(tree, name=part, filename=filename(part))
    return env.template_class.from_code(env, code, _globals(env), None)


@lru_cache(maxsize=2048)
def compiled_expression(source: str, *, part: str, strict: bool = False) -> TemplateExpression:
    """One expression (the inside of ``{{ … }}``), compiled to return its value as it is."""
    env = environment(html=False, strict=strict)
    parser_tree = env.parse("{{ " + source + " }}", name=part)
    (output,) = parser_tree.body
    if not isinstance(output, nodes.Output) or len(output.nodes) != 1:
        raise TemplateSyntaxError("expected one expression", 1)
    body = [nodes.Assign(nodes.Name("result", "store"), output.nodes[0], lineno=1)]
    tree = _Guard().visit(nodes.Template(body, lineno=1))
    tree.set_environment(env)
    code = env.compile(tree, name=part, filename=filename(part))
    template = env.template_class.from_code(env, code, _globals(env), None)
    return TemplateExpression(template, True)


def _globals(env: LealtaSandbox) -> dict[str, Any]:
    """A compiled template's globals: the environment's, copied into a plain dict. Jinja's
    default (a ``ChainMap`` that follows later changes to them, which the sandbox never makes)
    is read whole for every rendering, and cost more than a short template's own work."""
    return dict(env.globals)


def filename(part: str) -> str:
    """The file name compiled code of ``part`` carries (tracebacks use it for line numbers)."""
    return f"<template {part}>"
