"""Rendering a template body for one person. Pure: the context is handed in.

:func:`render` picks the language variant, renders every part in the sandbox
(:mod:`lealta.messages.sandbox`; HTML parts autoescaped, text parts not), turns MJML into HTML
(converted once per template version, :mod:`lealta.messages.skeleton`), and for e-mail adds
the plain-text part when the template has none and hides the preheader at the top of the HTML.

At send time missing data never stops a message: a missing variable renders as nothing,
``None`` as nothing, ``{{ contact.first_name | default("there") }}`` gives the fallback, and
attribute chains on missing values (``{{ last_order.items[0].name }}``) stay empty. With
``strict=True`` (previews that want to see gaps) a missing value is an error naming the part
and line instead. Whatever the mode, reaching for internals, files or unbounded work is an
error (:class:`~lealta.messages.problems.RenderError`), never data.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from collections.abc import Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any

from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Undefined
from markupsafe import Markup

from lealta.messages import sandbox
from lealta.messages.model import CONTENT_PARTS, HTML_PARTS, normalize_language
from lealta.messages.plaintext import html_to_text
from lealta.messages.problems import RenderError
from lealta.messages.skeleton import finish, html_template

_SETTINGS = ("variants", "track_links")
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|%\}).)*)\}\}\s*$", re.DOTALL)
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def choose_variant(variants: Mapping[str, Any], language: str | None) -> str | None:
    """The variant for ``language``: its exact code (``pt-BR``), else its primary language
    (``pt``), else none (the default parts). Codes compare case-insensitively, ``_`` = ``-``."""
    if not language or not variants:
        return None
    by_code = {normalize_language(code): code for code in variants}
    wanted = normalize_language(language)
    return by_code.get(wanted) or by_code.get(wanted.split("-")[0])


def select_parts(
    body: Mapping[str, Any], language: str | None
) -> tuple[dict[str, tuple[Any, str]], str | None]:
    """The parts to render for ``language`` (name → (source, label for errors)), and the
    variant chosen (``None`` for the default parts)."""
    parts = {k: (v, k) for k, v in body.items() if k not in _SETTINGS and v is not None}
    variants = body.get("variants") or {}
    chosen = choose_variant(variants, language)
    if chosen is None:
        return parts, None
    override = {k: v for k, v in variants[chosen].items() if v is not None}
    if any(k in override for k in CONTENT_PARTS):
        for k in CONTENT_PARTS:
            parts.pop(k, None)
    parts.update({k: (v, f"variants.{chosen}.{k}") for k, v in override.items()})
    return parts, chosen


def render(
    body: Mapping[str, Any],
    context: Mapping[str, Any],
    *,
    language: str | None = None,
    channel: str | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """``body`` rendered with ``context``: the parts by name (see the module docstring).

    ``language`` chooses the variant and how money and dates read (default: the context's
    ``contact.language``); ``channel`` is inferred (a ``subject`` means e-mail) when omitted.

    Raises
    ------
    RenderError
        Naming the part and line: broken syntax, a sandbox violation, too much output or
        work, MJML that does not convert, or (``strict``) a missing value.
    """
    contact = context.get("contact")
    contact = contact if isinstance(contact, Mapping) else {}
    language = language or _text_or_none(contact.get("language"))
    parts, _chosen = select_parts(body, language)
    with sandbox.rendering(
        language=language, timezone=_text_or_none(contact.get("timezone")), now=_now(context)
    ):
        out: dict[str, Any] = {}
        for name, (source, label) in parts.items():
            if name == "mjml":
                out["html"] = _mjml_part(source, context, label, strict)
            elif isinstance(source, str):
                out[name] = _render_text(source, context, label, name in HTML_PARTS, strict)
            else:
                out[name] = render_value(source, context, label=label, strict=strict)
    if (channel or ("email" if "subject" in out else None)) == "email":
        _finish_email(out)
    return out


def render_value(
    value: Any, context: Mapping[str, Any], *, label: str = "value", strict: bool = False
) -> Any:
    """A JSON-like ``value`` with its strings rendered as (text) templates. A string that is
    exactly one ``{{ expression }}`` keeps the expression's own type, so ``"{{
    trigger.properties.products }}"`` stays a list; results are made JSON-able."""
    if not sandbox.active():
        with sandbox.rendering(now=_now(context)):
            return render_value(value, context, label=label, strict=strict)
    if isinstance(value, str):
        matched = _ONE_EXPRESSION.match(value)
        if matched:
            return _jsonable(_evaluate(matched["expr"], context, label, strict))
        return _render_text(value, context, label, False, strict)
    if isinstance(value, Mapping):
        return {
            str(k): render_value(v, context, label=f"{label}.{k}", strict=strict)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            render_value(v, context, label=f"{label}[{i}]", strict=strict)
            for i, v in enumerate(value)
        ]
    return value


def try_render(source: str, *, part: str, html: bool) -> RenderError | None:
    """Render one template string once, without data: how it fails, if it does.

    Saving a template uses it to refuse work that does not depend on data (numbers too large,
    loops over constants that go over the budget) before any message is sent.
    """
    try:
        with sandbox.rendering():
            _render_text(source, {}, part, html, False)
    except RenderError as exc:
        return exc
    return None


def mjml_to_html(source: str) -> str:
    """Responsive HTML from MJML (``mj-include`` refused: templates are self-contained)."""
    from mjml import mjml2html

    def refuse(path: str) -> str:
        raise ValueError(f"mj-include is not allowed in message templates ({path!r})")

    try:
        return mjml2html(source, disable_comments=True, include_loader=refuse)
    except ValueError as exc:
        raise RenderError(f"MJML could not be converted: {exc}", kind="mjml", part="mjml") from None


def _mjml_part(source: Any, context: Mapping[str, Any], label: str, strict: bool) -> str:
    """The HTML of an MJML part: its skeleton (converted once, :mod:`.skeleton`) rendered
    for the person, or else the MJML rendered for the person and converted."""
    skeleton = html_template(source, mjml_to_html) if isinstance(source, str) else None
    if skeleton is not None:
        try:
            return finish(_render_text(skeleton, context, label, True, strict))
        except RenderError:
            pass  # reported below as the MJML source has it, with its own line numbers
    return mjml_to_html(_render_text(source, context, label, True, strict))


def _render_text(
    source: str, context: Mapping[str, Any], label: str, html: bool, strict: bool
) -> str:
    if "{" not in source and "\r" not in source:
        output = source  # no tags: Jinja writes the text as it is (a constant preheader)
    else:
        try:
            template = sandbox.compiled(source, part=label, html=html, strict=strict)
            # The budget bounds the work (every character an expression writes is charged), so
            # the output is measured once, whole, rather than piece by piece.
            output = template.render(context)
        except Exception as exc:
            raise _render_error(exc, label) from None
    if len(output) > sandbox.MAX_OUTPUT:
        error = sandbox.LimitExceeded(
            f"the output is longer than {sandbox.MAX_OUTPUT:,} characters"
        )
        raise _render_error(error, label)
    return output


def _evaluate(expression: str, context: Mapping[str, Any], label: str, strict: bool) -> Any:
    try:
        compiled = sandbox.compiled_expression(expression, part=label, strict=strict)
        return compiled(**context)
    except Exception as exc:
        raise _render_error(exc, label) from None


def _render_error(exc: Exception, label: str) -> RenderError:
    if isinstance(exc, RenderError):
        return exc
    if isinstance(exc, TemplateSyntaxError):
        return RenderError(exc.message or str(exc), kind="syntax", part=label, line=exc.lineno)
    line = _template_line(exc.__traceback__, sandbox.filename(label))
    if isinstance(exc, sandbox.LimitExceeded):
        return RenderError(str(exc), kind="limit", part=label, line=line)
    if isinstance(exc, SecurityError):
        return RenderError(str(exc), kind="sandbox", part=label, line=line)
    if isinstance(exc, UndefinedError):
        return RenderError(str(exc), kind="undefined", part=label, line=line)
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return RenderError(message, kind="render", part=label, line=line)


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """The template line of the innermost traceback entry in the template's code."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _finish_email(out: dict[str, Any]) -> None:
    html = out.get("html")
    if not out.get("text"):
        out["text"] = html_to_text(html) if html else ""
    preheader = (out.get("preheader") or "").strip()
    if html and preheader:
        hidden = (
            '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" '
            f'aria-hidden="true">{html_lib.escape(preheader)}</div>'
        )
        found = _BODY_TAG.search(html)
        at = found.end() if found else 0
        out["html"] = html[:at] + hidden + html[at:]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, Undefined):
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Markup | str):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def _now(context: Mapping[str, Any]) -> dt.datetime | None:
    now = context.get("now")
    return now if isinstance(now, dt.datetime) else None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
