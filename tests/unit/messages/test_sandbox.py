"""Templates that try to escape the sandbox, read files or exhaust the machine get a clear
error, never the data."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lealta.messages.problems import RenderError
from lealta.messages.render import render
from lealta.messages.validate import check

SECRET = "s3cr3t-do-not-leak"
CONTEXT: dict[str, Any] = {"contact": {"first_name": "Ana", "token": SECRET}}

ESCAPES = [
    ("{{ ''.__class__.__mro__ }}", "sandbox", "'__class__'"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "sandbox", "'__class__'"),
    ("{{ cycler.__init__.__globals__ }}", "sandbox", "'__init__'"),
    ("{{ joiner.__init__.__globals__.os }}", "sandbox", "'__init__'"),
    ("{{ namespace.__init__.__globals__ }}", "sandbox", "'__init__'"),
    ("{{ self._TemplateReference__context }}", "sandbox", "'_TemplateReference__context'"),
    ("{{ self.__dict__ }}", "sandbox", "'__dict__'"),
    ("{{ range.__globals__ }}", "sandbox", "'__globals__'"),
    ("{{ contact|attr('__class__') }}", "sandbox", "'__class__'"),
    ("{{ contact['__class__'] }}", "sandbox", "'__class__'"),
    ("{{ [1]|map(attribute='__class__')|list }}", "sandbox", "'__class__'"),
    ("{{ '{0.__class__}'.format(contact) }}", "sandbox", "'format'"),
    ("{{ contact.update({'x': 1}) }}", "sandbox", "'update'"),
    ("{% include '/etc/passwd' %}", "syntax", "includes are not allowed"),
    ("{% import '/etc/passwd' as f %}", "syntax", "imports are not allowed"),
    ("{% from '/etc/passwd' import x %}", "syntax", "imports are not allowed"),
    ("{% extends '/etc/passwd' %}", "syntax", "extends are not allowed"),
    ("{{ lipsum() }}", "undefined", "lipsum"),
]


@pytest.mark.parametrize(("source", "kind", "says"), ESCAPES)
def test_an_escape_attempt_is_refused_with_a_clear_error(source: str, kind: str, says: str) -> None:
    with pytest.raises(RenderError) as caught:
        render({"subject": "x", "html": f"<p>\n{source}</p>"}, CONTEXT)
    error = caught.value
    assert (error.kind, error.part, error.line) == (kind, "html", 2)
    assert says in str(error)
    assert SECRET not in str(error)
    assert "root:" not in str(error)


@pytest.mark.parametrize(("source", "kind", "says"), ESCAPES)
def test_an_escape_attempt_is_refused_when_saved(source: str, kind: str, says: str) -> None:
    problems = check("email", {"subject": "x", "html": f"<p>\n{source}</p>"})
    assert any(p.severity == "error" and p.line == 2 for p in problems), problems


def test_strict_and_lenient_rendering_refuse_alike() -> None:
    for strict in (False, True):
        with pytest.raises(RenderError) as caught:
            render({"text": "{{ ''.__class__ }}"}, {}, strict=strict)
        assert caught.value.kind == "sandbox"


# 7**1300 squared 13 times: a few hundred thousand digits, seconds of CPU per multiplication.
SQUARING = "{% set a = 7 ** 1300 %}" + "{% set a = a * a %}" * 13 + "{{ a }}"

LIMITS = [
    "{{ 'a' * 100000000 }}",
    "{{ 'a'.ljust(1000000000) }}",
    "{{ 'a'.zfill(1000000000) }}",
    "{{ 'a' | center(1000000000) }}",
    "{{ 'a\nb' | indent(100000) }}",
    "{{ '%999999999s' % 1 }}",
    "{{ '%999999999s' | format(1) }}",
    "{{ 9 ** 99999999 }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in range(99999) %}{% for b in 'abcdefghij' %}{% endfor %}{% endfor %}",
    "{% set x = 'a' * 1000000 %}{{ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x }}",
    "{% set x = 'a' * 1000000 %}{{ [x, x, x, x, x, x, x, x, x, x, x] | join(x) }}",
    "{% set x = 'a' * 100000 %}{{ x | replace('', x) }}",
    "{% macro m() %}{{ 'x' * 1000 }}{% endmacro %}{% for i in range(20000) %}{{ m() }}{% endfor %}",
    "{% for x in range(50000) %}" + "y" * 300 + "{% endfor %}",
    SQUARING,
    "{{ 2.0 ** 5000 }}",
    "{% set ns = namespace(x=1) %}{% for i in range(9000) %}{% set ns.x = ns.x + ns.x %}"
    "{% endfor %}{{ ns.x }}",
]


@pytest.mark.parametrize("source", LIMITS)
def test_unbounded_work_stops_at_a_limit_quickly(source: str) -> None:
    started = time.perf_counter()
    with pytest.raises(RenderError) as caught:
        render({"text": source}, {})
    assert caught.value.kind in ("limit", "sandbox")
    assert time.perf_counter() - started < 5


def test_recursion_is_an_error_not_a_crash() -> None:
    with pytest.raises(RenderError) as caught:
        render({"text": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"}, {})
    assert "RecursionError" in str(caught.value)


def test_recursive_loops_are_refused() -> None:
    with pytest.raises(RenderError) as caught:
        render({"text": "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}"}, {})
    assert "recursive loops are not allowed" in str(caught.value)


def test_ordinary_templates_stay_well_inside_the_limits() -> None:
    body = {
        "text": "{% for p in products %}{{ loop.index }}. {{ p.name | upper }} "
        "{{ p.price | money }}{{ ', ' if not loop.last }}{% endfor %} "
        "{{ products | map(attribute='name') | join(' / ') }} {{ 'ab' * 3 }} {{ 2 ** 10 }}"
    }
    products = [{"name": f"item {i}", "price": i} for i in range(500)]
    out = render(body, {"products": products})["text"]
    assert out.startswith("1. ITEM 0 €0.00, 2. ITEM 1 €1.00")
    assert out.endswith("item 498 / item 499 ababab 1024")


@pytest.mark.parametrize("source", [SQUARING, "{{ 2.0 ** 5000 }}", "{{ 'a' * 100000000 }}"])
def test_work_that_does_not_depend_on_data_is_refused_when_saved(source: str) -> None:
    started = time.perf_counter()
    problems = check("email", {"subject": "x", "html": f"<p>\n{source}</p>"})
    assert time.perf_counter() - started < 1
    (problem,) = [p for p in problems if p.severity == "error"]
    assert problem.part == "html"
    assert problem.line == 2
    assert "too large" in problem.message or "too much work" in problem.message


def test_numbers_of_ordinary_size_are_untouched() -> None:
    body = {"text": "{{ 7 ** 1300 > 0 }} {{ 2 ** 64 - 1 }} {{ 10 * 3 - 1 }} {{ 1.5 * 2 }}"}
    assert render(body, {})["text"] == "True 18446744073709551615 29 3.0"
    assert check("email", {"subject": "x", **body}) == []
