"""MJML converted once per template version gives, for every shipped template and person, the
very HTML that converting each person's rendered MJML gives."""

from __future__ import annotations

from typing import Any

import pytest

from lealta.automations import catalog as workflows
from lealta.messages import render as rendering
from lealta.messages.render import mjml_to_html, render
from lealta.messages.skeleton import html_template
from tests.unit.messages.test_library import SHIPPED, USES, _context

MJML = sorted({(t, r.id) for t, _, r in USES if "mjml" in str(SHIPPED[t]["body"])})


def _people(workflow: str) -> list[dict[str, Any]]:
    """Contexts that take different branches: English and Italian, a name that needs escaping,
    no name, no last order, no loyalty tier."""
    rules = workflows.load_template(workflow)
    english, italian = _context(rules, "en"), _context(rules, "it")
    odd = _context(rules, "en")
    odd["contact"] = {**odd["contact"], "first_name": 'Zoë & "Bo" <b>'}
    bare = _context(rules, "it")
    bare["contact"] = {**bare["contact"], "first_name": None}
    for name in ("last_order", "loyalty"):
        bare.pop(name, None)
    return [english, italian, odd, bare]


def _mjml_parts(body: dict[str, Any]) -> list[str]:
    variants = body.get("variants") or {}
    return [p["mjml"] for p in [body, *variants.values()] if isinstance(p.get("mjml"), str)]


def test_the_shipped_templates_use_mjml() -> None:
    assert len(MJML) >= 20


@pytest.mark.parametrize(("template_id", "workflow"), MJML)
def test_a_shipped_mjml_template_renders_the_same_from_its_skeleton(
    template_id: str, workflow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = SHIPPED[template_id]["body"]
    assert all(html_template(part, mjml_to_html) for part in _mjml_parts(body))
    people = _people(workflow)
    once = [render(body, person, channel="email") for person in people]
    monkeypatch.setattr(rendering, "html_template", lambda source, convert: None)
    each = [render(body, person, channel="email") for person in people]
    assert once == each
    assert "Zoë &amp; &#34;Bo&#34; &lt;b&gt;" in once[2]["html"]


def test_mjml_with_a_tag_in_a_layout_attribute_is_converted_per_message() -> None:
    source = (
        "<mjml><mj-body><mj-section padding='{{ p }}'><mj-column><mj-text>{{ name }}"
        "</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert html_template(source, mjml_to_html) is None
    parts = render({"subject": "s", "mjml": source}, {"p": "7px", "name": "Ana"})
    assert "Ana" in parts["html"]
    assert "padding:7px" in parts["html"]


def test_a_template_error_names_the_line_of_the_mjml_source() -> None:
    source = "<mjml><mj-body>\n<mj-text>\n{{ 1 // 0 }}</mj-text></mj-body></mjml>"
    with pytest.raises(rendering.RenderError) as raised:
        render({"subject": "s", "mjml": source}, {})
    assert raised.value.line == 3


@pytest.mark.parametrize("between", ["", " ", "\n", "\n  ", "  \n", "\n\xa0", " x\n", "\r\n"])
def test_white_space_a_value_leaves_between_two_tags_is_kept_or_dropped_as_mjml_does(
    between: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "<mjml><mj-body><mj-section><mj-column><mj-text><b>a</b>{{ between }}<b>b</b>"
        "{% if no %}<i>c</i>{% endif %}\n  </mj-text>\n  {% if no %}<mj-text>d</mj-text>"
        "{% endif %}\n</mj-column></mj-section></mj-body></mjml>"
    )
    _same_both_ways(source, {"between": between}, monkeypatch)


@pytest.mark.parametrize("url", ["https://shop.example/p/1", ""])
def test_white_space_control_in_tags_removes_the_same_white_space(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "<mjml><mj-body><mj-section><mj-column><mj-table><tr><td>\n  "
        '{% if url %}<a href="{{ url }}">Tea</a>\n  {%- else %}Tea{% endif %}\n  '
        "{% if 2 > 1 -%}\n  &times; 2 {{- ' ' -}} \n{%- endif %}</td></tr></mj-table>"
        "</mj-column></mj-section></mj-body></mjml>"
    )
    _same_both_ways(source, {"url": url}, monkeypatch)


def _same_both_ways(source: str, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """MJML ``source`` renders from its skeleton (it has one) as converted per message."""
    assert html_template(source, mjml_to_html) is not None
    body = {"subject": "s", "mjml": source}
    once = render(body, context)
    monkeypatch.setattr(rendering, "html_template", lambda source, convert: None)
    assert once == render(body, context)
