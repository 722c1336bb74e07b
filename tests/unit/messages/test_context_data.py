"""What came from outside (a tracked event, a run's saved values) is data, never template."""

from __future__ import annotations

from lealta.messages.context import message_context
from lealta.messages.render import render

BASE = {"contact": {"first_name": "Ana"}}


def test_event_properties_that_look_like_templates_are_shown_not_evaluated() -> None:
    payload = {
        "cart": "{{ trigger.properties.products }}",  # the step's own data: a template
        "note": "Hi {{ contact.first_name }}",
        "trigger": {
            "event": "Checkout Started",
            "properties": {"products": [{"name": "{{ 7 * 7 }}"}], "coupon": "{{ links }}"},
        },
        "saved": {"voucher": "{{ contact.first_name }}"},
    }
    context = message_context(BASE, payload=payload)
    assert context["payload"]["note"] == "Hi Ana"
    assert context["payload"]["cart"] == [{"name": "{{ 7 * 7 }}"}]
    assert context["payload"]["trigger"]["properties"]["coupon"] == "{{ links }}"
    assert context["payload"]["saved"] == {"voucher": "{{ contact.first_name }}"}
    body = {
        "subject": "x",
        "text": "{% for p in trigger.properties.products %}{{ p.name }}{% endfor %}",
    }
    assert render(body, context)["text"] == "{{ 7 * 7 }}"
