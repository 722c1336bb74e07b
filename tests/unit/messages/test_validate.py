"""Checking templates on save: shape, syntax and unknown variables, with part and line."""

from __future__ import annotations

import pytest

from lealta.messages import catalog
from lealta.messages.problems import Problem, TemplateInvalid
from lealta.messages.validate import check, ensure_valid


def errors(problems: list[Problem]) -> list[tuple[str, int | None, str]]:
    return [(p.part, p.line, p.message) for p in problems if p.severity == "error"]


def test_a_good_template_has_no_problems() -> None:
    body = {
        "subject": "Hi {{ contact.first_name | default('there') }}",
        "html": "{% for item in trigger.properties.products %}{{ item.name }}"
        "{{ loop.index }}{% endfor %}{% set total = last_order.amount %}{{ total | money }}"
        "{{ links.survey(10) }}{{ rfm.segment }}{{ payload.anything.at.all }}{{ now | date }}",
    }
    assert check("email", body) == []


def test_syntax_errors_name_the_part_and_line() -> None:
    body = {"subject": "ok", "html": "<p>\n\n{% if contact.vip %}\nVIP</p>"}
    [(part, line, message)] = errors(check("email", body))
    assert (part, line) == ("html", 3)
    assert "endif" in message


def test_unknown_filters_are_errors_with_their_line() -> None:
    [(part, line, message)] = errors(check("sms", {"text": "a\n{{ contact.name | shout }}"}))
    assert (part, line) == ("text", 2)
    assert "shout" in message


def test_unknown_variables_are_errors_with_a_suggestion() -> None:
    body = {"subject": "Hi {{ contcat.first_name }}", "text": "\n\n{{ first_name }}"}
    found = errors(check("email", body))
    assert [(p, line) for p, line, _ in found] == [("subject", 1), ("text", 3)]
    assert "did you mean contact?" in found[0][2]
    assert "did you mean contact.first_name?" in found[1][2]


def test_unknown_fields_of_known_objects_are_warnings() -> None:
    body = {
        "subject": "x",
        "text": "{{ rfm.segmnet }}\n{{ links.unsubscribe_url }}\n{{ contact.whatever }}",
    }
    problems = check("email", body)
    assert [(p.severity, p.line) for p in problems] == [("warning", 1), ("warning", 2)]
    assert "rfm has no field 'segmnet'" in problems[0].message
    assert "segment" in problems[0].message


def test_names_the_template_defines_are_not_unknown() -> None:
    text = (
        "{% set greeting = 'hi' %}{{ greeting }}"
        "{% macro price(p) %}{{ p }}{% endmacro %}{{ price(1) }}"
        "{% for key, value in contact.attributes.items() %}{{ key }}{{ value }}{% endfor %}"
        "{% with n = 3 %}{{ n }}{% endwith %}"
    )
    assert check("sms", {"text": text}) == []


def test_problems_in_variants_name_the_variant() -> None:
    body = {"subject": "x", "text": "x", "variants": {"pt-BR": {"subject": "\n{{ nome }}"}}}
    assert [(p, line) for p, line, _ in errors(check("email", body))] == [
        ("variants.pt-BR.subject", 2)
    ]


def test_webhook_body_strings_are_checked_where_they_are() -> None:
    body = {"url": "https://h.example", "body": {"items": ["ok", "{{ nope }}"]}}
    assert [(p, line) for p, line, _ in errors(check("webhook", body))] == [("body.items[1]", 1)]


@pytest.mark.parametrize(
    ("channel", "body", "part"),
    [
        ("email", {"html": "<p>no subject</p>"}, "body"),
        ("email", {"subject": "s"}, "body"),
        ("email", {"subject": "s", "html": "h", "mjml": "m"}, "body"),
        ("email", {"subject": "s", "text": "t", "colour": "red"}, "colour"),
        ("sms", {"text": "t", "variants": {"not a language": {"text": "t"}}}, "variants"),
        ("sms", {"text": "t", "variants": {"pt_br": {}, "pt-BR": {}}}, "variants"),
        ("push", {"url": "https://x.example"}, "body"),
        ("fax", {"text": "t"}, "channel"),
    ],
)
def test_bodies_that_do_not_fit_the_channel_are_errors(
    channel: str, body: dict[str, object], part: str
) -> None:
    [(found, line, _message)] = errors(check(channel, body))
    assert (found, line) == (part, None)


def test_mjml_that_does_not_convert_is_a_warning() -> None:
    [problem] = check("email", {"subject": "s", "mjml": "<mjml><mj-body>"})
    assert (problem.severity, problem.part) == ("warning", "mjml")


def test_ensure_valid_raises_with_every_problem_and_names_the_first() -> None:
    body = {"subject": "{{ a }}", "text": "{{ b }}\n{{ rfm.nope }}"}
    with pytest.raises(TemplateInvalid) as caught:
        ensure_valid("email", body)
    assert (caught.value.field, caught.value.line) == ("subject", 1)
    assert "(and 1 more)" in str(caught.value)
    assert len(caught.value.problems) == 3


def test_ensure_valid_returns_the_body_as_stored_and_its_warnings() -> None:
    stored, warnings = ensure_valid("webpush", {"title": "{{ rfm.nope }}", "track_links": False})
    assert stored == {"title": "{{ rfm.nope }}"}
    assert [w.severity for w in warnings] == ["warning"]


def test_the_shipped_templates_are_valid_and_named_after_workflow_steps() -> None:
    docs = catalog.shipped()
    ids = [d["id"] for d in docs]
    assert ids == sorted(ids)
    assert {"birthday", "cart-reminder-1", "cart-reminder-2", "welcome"} <= set(ids)
    for doc in docs:
        assert check(doc["channel"], doc["body"]) == [], doc["id"]
