"""Template bodies as typed data: channels, stored shape, files, JSON Schema."""

from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from lealta.messages.catalog import read_documents
from lealta.messages.model import json_schema, normalize_channel, parse_body


def test_channel_names_are_normalised() -> None:
    assert normalize_channel("WebPush") == "web_push"
    assert normalize_channel("email") == "email"
    with pytest.raises(InvalidInput) as caught:
        normalize_channel("pigeon")
    assert caught.value.field == "channel"


def test_the_stored_body_leaves_out_unset_parts() -> None:
    body = {"subject": "s", "text": "t", "html": None, "variants": {"de": {"subject": "d"}}}
    assert parse_body("email", body) == {
        "subject": "s",
        "text": "t",
        "variants": {"de": {"subject": "d"}},
    }


def test_errors_name_the_nested_part() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body("email", {"subject": "s", "text": "t", "variants": {"de": {"sujet": "x"}}})
    assert caught.value.field == "variants.de.sujet"


def test_files_hold_one_template_or_many() -> None:
    one = read_documents("id: hi\nchannel: sms\nbody: {text: Hi}\n")
    assert one == [{"id": "hi", "channel": "sms", "description": "", "body": {"text": "Hi"}}]
    many = read_documents(
        '{"templates": [{"id": "a", "channel": "webpush", "body": {"title": "t"}}]}'
    )
    assert many[0]["channel"] == "web_push"
    with pytest.raises(InvalidInput) as bad_yaml:
        read_documents("id: [\n")
    assert bad_yaml.value.line is not None
    with pytest.raises(InvalidInput, match="body is missing"):
        read_documents("id: a\nchannel: sms\n")
    with pytest.raises(InvalidInput, match="not a template id"):
        read_documents("id: 'a b'\nchannel: sms\nbody: {}\n")


def test_the_json_schema_describes_every_channel() -> None:
    schema = json_schema()
    text = str(schema)
    for channel in ("email", "sms", "push", "web_push", "onsite", "webhook"):
        assert f"'{channel}'" in text
    assert "mjml" in text
    assert "variants" in text
