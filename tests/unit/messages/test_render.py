"""Rendering bodies: parts, fallbacks, escaping, variants, MJML, plain text, native values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.messages.problems import RenderError
from lealta.messages.render import choose_variant, render, render_value

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def ctx(**contact: Any) -> dict[str, Any]:
    return {"contact": contact, "now": NOW}


def test_an_email_renders_every_part_and_gets_a_text_part_from_its_html() -> None:
    body = {
        "subject": "Hi {{ contact.first_name }}",
        "html": "<html><body><h1>Hello {{ contact.first_name }}</h1>"
        '<p>See <a href="https://shop.example/new">what is new</a>.</p></body></html>',
    }
    out = render(body, ctx(first_name="Ana"))
    assert out["subject"] == "Hi Ana"
    assert "<h1>Hello Ana</h1>" in out["html"]
    assert out["text"] == "Hello Ana\n\nSee what is new (https://shop.example/new).\n"


def test_missing_data_falls_back_instead_of_failing_at_send_time() -> None:
    body = {
        "text": "Hi {{ contact.first_name | default('there') }}|{{ contact.city }}|"
        "{{ last_order.items[0].name }}|{{ nobody.knows.this }}|{{ contact.nickname|d('x') }}|"
        "{% for p in purchases %}{{ p.id }}{% endfor %}|{{ contact.empty|default('e', true) }}"
    }
    assert render(body, ctx(nickname=None, empty=""))["text"] == "Hi there||||x||e"


def test_none_renders_as_nothing_and_default_replaces_it() -> None:
    body = {"text": "[{{ contact.city }}][{{ contact.city | default('somewhere') }}]"}
    assert render(body, ctx(city=None))["text"] == "[][somewhere]"


def test_strict_rendering_names_the_part_and_line_of_a_missing_value() -> None:
    body = {"subject": "ok", "html": "<p>\n{{ contact.first_name }}\n{{ contact.city }}</p>"}
    with pytest.raises(RenderError) as caught:
        render(body, ctx(first_name="Ana"), strict=True)
    assert (caught.value.kind, caught.value.part, caught.value.line) == ("undefined", "html", 3)
    assert "city" in str(caught.value)


def test_values_are_escaped_in_html_parts_only() -> None:
    body = {
        "subject": "{{ contact.first_name }}",
        "html": "<p>{{ contact.first_name }}</p>",
        "text": "{{ contact.first_name }}",
    }
    out = render(body, ctx(first_name="<b>Tom & Jerry</b>"))
    assert out["html"] == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert out["subject"] == out["text"] == "<b>Tom & Jerry</b>"


def test_dict_keys_win_over_dict_methods() -> None:
    body = {"text": "{% for i in order.items %}{{ i.name }};{% endfor %}{{ order.values }}"}
    context = {"order": {"items": [{"name": "tea"}, {"name": "cup"}], "values": 3}}
    assert render(body, context)["text"] == "tea;cup;3"


@pytest.mark.parametrize(
    ("language", "chosen"),
    [("pt-BR", "pt-BR"), ("pt_br", "pt-BR"), ("pt-PT", "pt"), ("PT", "pt"), ("de", None)],
)
def test_the_variant_is_the_exact_language_then_the_primary_then_the_default(
    language: str, chosen: str | None
) -> None:
    assert choose_variant({"pt-BR": {}, "pt": {}, "es": {}}, language) == chosen


def test_a_variant_overrides_parts_and_brings_its_own_content() -> None:
    body = {
        "subject": "Hello",
        "preheader": "Read me",
        "html": "<p>English</p>",
        "text": "English text",
        "variants": {"pt": {"subject": "Olá", "html": "<p>Português</p>"}},
    }
    out = render(body, ctx(language="pt-PT"))
    assert (out["subject"], out["preheader"]) == ("Olá", "Read me")
    assert "Português" in out["html"]
    assert out["text"] == "Português\n"  # made from the variant's HTML, not the English text
    english = render(body, ctx(language="fr"))
    assert (english["subject"], english["text"]) == ("Hello", "English text")
    assert render(body, ctx(language="fr"), language="pt")["subject"] == "Olá"


def test_errors_in_a_variant_name_the_variant() -> None:
    body = {"subject": "ok", "text": "ok", "variants": {"de": {"subject": "{{ 1/0 }}"}}}
    with pytest.raises(RenderError) as caught:
        render(body, ctx(language="de"))
    assert caught.value.part == "variants.de.subject"
    assert "ZeroDivisionError" in str(caught.value)


def test_mjml_becomes_responsive_html_after_the_values_are_filled_in() -> None:
    body = {
        "subject": "Hi",
        "mjml": "<mjml><mj-body><mj-section><mj-column>"
        "<mj-text>Hello {{ contact.first_name }} &amp; co</mj-text>"
        '<mj-button href="https://shop.example/?a=1&amp;b=2">Shop</mj-button>'
        "</mj-column></mj-section></mj-body></mjml>",
    }
    out = render(body, ctx(first_name="Ana"))
    assert out["html"].lower().startswith("<!doctype html>")
    assert "@media" in out["html"]  # the responsive part of MJML's output
    assert "Hello Ana &amp; co" in out["html"]
    assert "mjml" not in out
    assert "Hello Ana & co" in out["text"]


def test_broken_mjml_and_mjml_includes_are_render_errors() -> None:
    with pytest.raises(RenderError) as broken:
        render({"subject": "x", "mjml": "<mjml><mj-body><mj-section>"}, ctx())
    assert broken.value.kind == "mjml"
    include = '<mjml><mj-body><mj-include path="/etc/passwd" /></mj-body></mjml>'
    with pytest.raises(RenderError) as included:
        render({"subject": "x", "mjml": include}, ctx())
    assert included.value.kind == "mjml"
    assert "root:" not in str(included.value)


def test_the_preheader_is_hidden_at_the_top_of_the_html_body() -> None:
    body = {
        "subject": "s",
        "preheader": "Sale <today>",
        "html": '<html><body class="x"><p>Hi</p></body></html>',
    }
    out = render(body, ctx())
    assert out["html"].startswith('<html><body class="x"><div style="display:none')
    assert "Sale &lt;today&gt;</div><p>Hi</p>" in out["html"]
    assert "Sale" not in out["text"]


def test_a_webhook_body_keeps_the_types_of_single_expressions() -> None:
    body = {
        "url": "https://hooks.example/{{ contact.id }}",
        "body": {
            "products": "{{ trigger.properties.products }}",
            "total": "{{ last_order.amount }}",
            "when": "{{ now }}",
            "greeting": "Hi {{ contact.first_name }}",
            "missing": "{{ contact.nope }}",
            "fixed": [1, True, None],
        },
    }
    context = {
        "contact": {"id": "c1", "first_name": "Ana"},
        "trigger": {"properties": {"products": [{"sku": "A", "price": 2.5}]}},
        "last_order": {"amount": Decimal("12.50")},
        "now": NOW,
    }
    out = render(body, context, channel="webhook")
    assert out["url"] == "https://hooks.example/c1"
    assert out["body"] == {
        "products": [{"sku": "A", "price": 2.5}],
        "total": 12.5,
        "when": NOW.isoformat(),
        "greeting": "Hi Ana",
        "missing": None,
        "fixed": [1, True, None],
    }


def test_render_value_evaluates_payload_templates_on_its_own() -> None:
    assert render_value({"cart": "{{ items }}", "n": 2}, {"items": ["a"]}) == {
        "cart": ["a"],
        "n": 2,
    }


def test_push_data_values_are_rendered_as_text() -> None:
    body = {
        "title": "Hi {{ contact.first_name }}",
        "data": {"deep_link": "app://c/{{ contact.id }}"},
    }
    out = render(body, ctx(first_name="Ana", id="c9"), channel="push")
    assert out == {"title": "Hi Ana", "data": {"deep_link": "app://c/c9"}}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€1,234.50 · 2 March 2025 · 02/03/2025"),
        ("en-US", "€1,234.50 · March 2, 2025 · 03/02/2025"),
        ("pt-BR", "R$ 1.234,50 · 2 de março de 2025 · 02/03/2025"),
        ("de", "1.234,50 € · 2. März 2025 · 02/03/2025"),
        ("fr", "1\u202f234,50 € · 2 mars 2025 · 02/03/2025"),
    ],
)
def test_money_and_dates_read_as_the_contact_writes_them(language: str, expected: str) -> None:
    currency = "BRL" if language == "pt-BR" else "EUR"
    body = {
        "text": "{{ 1234.5 | money(cur) }} · {{ day | date }} · {{ day | date('short') }}",
    }
    context = {"contact": {"language": language}, "cur": currency, "day": "2025-03-02"}
    assert render(body, context)["text"] == expected


def test_moments_are_shown_in_the_contacts_time_zone() -> None:
    body = {"text": "{{ at | datetime }} / {{ at | date('%d.%m.') }} / {{ until | days_until }}"}
    context = {
        "contact": {"timezone": "America/Sao_Paulo"},
        "at": dt.datetime(2025, 3, 2, 1, 30, tzinfo=dt.UTC),
        "until": dt.datetime(2025, 3, 8, 12, 0, tzinfo=dt.UTC),
        "now": NOW,
    }
    assert render(body, context)["text"] == "1 March 2025 22:30 / 01.03. / 7"


def test_formatting_filters_leave_missing_values_empty() -> None:
    body = {"text": "[{{ x | money }}][{{ x | date }}][{{ x | number(2) }}][{{ 'n/a' | money }}]"}
    assert render(body, {})["text"] == "[][][][n/a]"


@given(st.text(alphabet=st.characters(blacklist_characters="{}%#"), max_size=200))
def test_text_without_template_markers_renders_unchanged_but_for_line_ends(text: str) -> None:
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert render({"text": text}, {})["text"] == expected


def test_the_same_amount_reads_in_each_readers_language_and_as_its_own_value() -> None:
    body = {"text": "{{ i | money }} {{ f | money('JPY') }} {{ s | money }} {{ x | money }}"}
    values = {"i": 1, "f": 1.0, "s": "1.0", "x": "x"}
    english = render(body, {**values, "contact": {"language": "en"}})["text"]
    german = render(body, {**values, "contact": {"language": "de"}})["text"]
    assert english == "€1.00 ¥1 €1.00 x"
    assert german == "1,00 € 1 ¥ 1,00 € x"
    assert render(body, {**values, "contact": {"language": "en"}})["text"] == english


def test_a_filter_of_a_constant_reads_in_each_readers_language_and_clock() -> None:
    """Jinja works out a filter of constants once, when it compiles the template, unless
    the filter says it depends on the rendering: the first reader's language or clock must
    not be kept for everyone the compiled template serves afterwards."""
    body = {"text": "{{ 1234.5 | money }} {{ 2.5 | number(1) }} {{ '2030-01-11' | days_until }}"}
    first = render(
        body, {"contact": {"language": "en"}, "now": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}
    )
    second = render(
        body, {"contact": {"language": "de"}, "now": dt.datetime(2030, 1, 6, tzinfo=dt.UTC)}
    )
    assert first["text"] == "€1,234.50 2.5 10"
    assert second["text"] == "1.234,50 € 2,5 5"
