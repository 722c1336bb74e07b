"""Twilio's request signature: a published example, and the URL variants tried."""

from __future__ import annotations

from lealta.channels.sms import request_signature, signature_matches

# The example of Twilio's security documentation.
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_documented_example_signs_as_published() -> None:
    assert request_signature("12345", URL, PARAMS) == EXPECTED


def test_parameter_order_does_not_matter() -> None:
    assert request_signature("12345", URL, list(reversed(PARAMS))) == EXPECTED


def test_a_changed_parameter_url_or_token_breaks_the_signature() -> None:
    changed = [*PARAMS[:-1], ("To", "+18005551213")]
    assert not signature_matches("12345", [URL], changed, EXPECTED)
    assert not signature_matches("12345", [URL.replace("foo=1", "foo=2")], PARAMS, EXPECTED)
    assert not signature_matches("54321", [URL], PARAMS, EXPECTED)
    assert not signature_matches("12345", [URL], PARAMS, None)
    assert not signature_matches("", [URL], PARAMS, EXPECTED)


def test_any_of_several_urls_and_the_default_port_variants_match() -> None:
    assert signature_matches("12345", ["http://internal:8000/x", URL], PARAMS, EXPECTED)
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert signature_matches("12345", [with_port], PARAMS, EXPECTED)
    signed_with_port = request_signature("12345", with_port, PARAMS)
    assert signature_matches("12345", [URL], PARAMS, signed_with_port)
    other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    assert not signature_matches("12345", [other_port], PARAMS, EXPECTED)
