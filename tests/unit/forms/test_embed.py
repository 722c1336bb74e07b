"""The embed HTML of a form escapes what it is given."""

from __future__ import annotations

from lealta.forms.embed import form_html


def test_names_and_urls_are_escaped() -> None:
    markup = form_html(
        action='https://x.example/v1/forms/a"b',
        slug="a",
        name="<b>News</b>",
        consent_channels=["email", "web_push"],
        write_key='k"><script>',
    )
    assert "<b>" not in markup
    assert "<script>" not in markup
    assert 'action="https://x.example/v1/forms/a&quot;b"' in markup
    assert 'name="consent_email"' in markup
    assert "browser notifications" in markup
