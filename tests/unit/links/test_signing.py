"""Signed link tokens: what is signed comes back, anything changed is refused."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lealta.errors import InvalidInput
from lealta.links import Links, signing
from lealta.links.signing import with_utm

LINKS = Links("a secret for tests", "https://mail.shop.example/")


def token_of(url: str) -> str:
    """The token in a link made by ``Links`` (the last path segment)."""
    return urlsplit(url).path.rsplit("/", 1)[1]


def test_a_click_link_carries_its_message_and_target() -> None:
    url = LINKS.click(42, "https://shop.example/shoes?size=42")
    assert url.startswith("https://mail.shop.example/l/c/")
    claims = LINKS.read(token_of(url), "click")
    assert (claims.kind, claims.outbox_id, claims.url) == (
        "click",
        42,
        "https://shop.example/shoes?size=42",
    )


def test_every_kind_round_trips() -> None:
    assert LINKS.read(token_of(LINKS.open_pixel(7)), "open").outbox_id == 7
    assert LINKS.read(token_of(LINKS.unsubscribe(8)), "unsub").outbox_id == 8
    assert LINKS.read(token_of(LINKS.preferences("c0ffee")), "prefs").contact_id == "c0ffee"
    survey = LINKS.read(token_of(LINKS.survey(9, 10, survey="nps-q2")), "survey")
    assert (survey.outbox_id, survey.score, survey.survey) == (9, 10, "nps-q2")


def test_the_pixel_token_is_read_with_or_without_its_gif_suffix() -> None:
    pixel = LINKS.open_pixel(5)
    assert pixel.endswith(".gif")
    with_suffix = token_of(pixel)
    assert LINKS.read(with_suffix, "open").outbox_id == 5
    assert LINKS.read(with_suffix.removesuffix(".gif"), "open").outbox_id == 5


def test_a_payload_pointing_elsewhere_keeps_no_valid_signature() -> None:
    payload, signature = token_of(LINKS.click(1, "https://shop.example/")).split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({"m": 1, "u": "https://evil.example/"}).encode()
    ).decode()
    with pytest.raises(InvalidInput, match="not valid") as caught:
        LINKS.read(f"{forged.rstrip('=')}.{signature}", "click")
    assert caught.value.field == "token"
    assert LINKS.read(f"{payload}.{signature}", "click").url == "https://shop.example/"


def test_another_persons_unsubscribe_link_cannot_be_made_by_changing_the_id() -> None:
    _payload, signature = token_of(LINKS.unsubscribe(100)).split(".")
    other = base64.urlsafe_b64encode(b'{"m":101}').decode().rstrip("=")
    with pytest.raises(InvalidInput):
        LINKS.read(f"{other}.{signature}", "unsub")


def test_a_changed_signature_is_refused() -> None:
    payload, signature = token_of(LINKS.open_pixel(3).removesuffix(".gif")).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidInput, match="not valid"):
        LINKS.read(f"{payload}.{flipped}", "open")


def test_a_token_of_one_kind_is_refused_as_another() -> None:
    survey = token_of(LINKS.survey(4, 9))
    unsubscribe = token_of(LINKS.unsubscribe(4))
    with pytest.raises(InvalidInput):
        LINKS.read(survey, "click")
    with pytest.raises(InvalidInput):
        LINKS.read(unsubscribe, "survey")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    elsewhere = Links("another secret", "https://mail.shop.example")
    with pytest.raises(InvalidInput):
        LINKS.read(token_of(elsewhere.unsubscribe(1)), "unsub")


@pytest.mark.parametrize(
    "token", ["", "no-dot-at-all", ".signature-only", "payload-only.", "x" * 9000 + ".y"]
)
def test_malformed_tokens_are_refused_naming_the_token(token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        LINKS.read(token, "click")
    assert caught.value.field == "token"


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw-_.0z"))
def test_any_one_character_changed_is_refused(position: int, replacement: str) -> None:
    token = token_of(LINKS.click(12, "https://shop.example/a?b=c"))
    index = position % len(token)
    changed = token[:index] + replacement + token[index + 1 :]
    if changed == token:
        return
    with pytest.raises(InvalidInput):
        LINKS.read(changed, "click")


def test_utm_parameters_are_added_and_those_in_the_url_win() -> None:
    url = with_utm(
        "https://shop.example/p?utm_source=partner&colour=red",
        {"source": "lealta", "medium": "email", "utm_campaign": "spring", "content": ""},
    )
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "utm_source": ["partner"],
        "colour": ["red"],
        "utm_medium": ["email"],
        "utm_campaign": ["spring"],
    }


def test_a_click_link_targets_the_url_with_utm() -> None:
    url = LINKS.click(2, "https://shop.example/", utm={"campaign": "win-back"})
    claims = LINKS.read(token_of(url), "click")
    assert claims.url == "https://shop.example/?utm_campaign=win-back"


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "ftp://files.example/x",
        "mailto:ann@example.com",
        "/relative/path",
        "//shop.example/no-scheme",
        "https://",
    ],
)
def test_only_web_addresses_can_be_tracked(target: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        LINKS.click(1, target)
    assert caught.value.field == "url"


def test_a_survey_score_outside_zero_to_ten_cannot_be_linked() -> None:
    with pytest.raises(ValueError, match="between 0 and 10"):
        LINKS.survey(1, 11)
    with pytest.raises(ValueError, match="between 0 and 10"):
        LINKS.survey(1, -1)


def reference_token(links: Links, secret: str, kind: str, claims: dict[str, object]) -> str:
    """A token as the json and hmac modules make it: compact JSON with sorted keys and
    non-ASCII escaped, base64url without padding, HMAC-SHA256 over "<kind>|<payload>"."""
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    key = hashlib.sha256(b"lealta-links|" + secret.encode()).digest()
    payload = b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key, f"{kind}|{payload}".encode(), "sha256").digest()[:16]
    return f"{payload}.{b64(mac)}"


@settings(max_examples=300, deadline=None)  # the first example imports and warms up
@given(
    kind=st.sampled_from(["click", "open", "unsub", "prefs", "survey"]),
    claims=st.dictionaries(
        st.sampled_from(["m", "u", "c", "s", "q", "x"]),
        st.integers(min_value=-(2**70), max_value=2**70)
        | st.text()
        | st.text(alphabet=st.characters(max_codepoint=127))
        | st.floats(allow_nan=False)
        | st.booleans(),
    ),
)
@example(kind="click", claims={"m": 1, "u": "https://shop.example/\x7f"})
@example(kind="click", claims={"m": 2**64, "u": "https://shop.example/caf\u00e9"})
@example(kind="survey", claims={"m": 1, "s": 1.5, "q": "nps"})
def test_tokens_are_the_json_and_hmac_modules_own(kind: str, claims: dict[str, object]) -> None:
    # the fast paths (orjson for plain claims, HMAC kept as two hashes) change no token
    assert LINKS.token(kind, claims) == reference_token(LINKS, "a secret for tests", kind, claims)


@settings(max_examples=300, deadline=None)
@given(
    outbox_id=st.integers(min_value=-(2**70), max_value=2**70) | st.booleans(),
    path=st.text() | st.text(alphabet=st.characters(max_codepoint=127)),
)
@example(outbox_id=1, path="\x7f")
@example(outbox_id=True, path="caf\u00e9")
def test_message_links_carry_the_json_and_hmac_modules_own_tokens(
    outbox_id: int, path: str
) -> None:
    # click, open and unsubscribe links put their claims' JSON together themselves
    secret = "a secret for tests"
    target = "https://shop.example/" + path
    click = LINKS.click(outbox_id, target)
    assert token_of(click) == reference_token(
        LINKS, secret, "click", {"m": outbox_id, "u": with_utm(target, {})}
    )
    pixel = token_of(LINKS.open_pixel(outbox_id)).removesuffix(".gif")
    assert pixel == reference_token(LINKS, secret, "open", {"m": outbox_id})
    unsubscribe = token_of(LINKS.unsubscribe(outbox_id))
    assert unsubscribe == reference_token(LINKS, secret, "unsub", {"m": outbox_id})


# Pieces of targets: plain ones (no query, ASCII) and what urllib reads its own way
# (upper-case schemes, white space it drops, queries, fragments, IPv6 hosts, non-ASCII).
_URL_PIECES = st.sampled_from(
    [
        "https://", "http://", "HTTPS://", "ftp://", "shop.example", "a-b.example", ":8080", ":",
        "/", "/p/0-5", "//x", "%20", "%7E", "&", ";", "=", "'", "(", "*", "@", "~", "?", "?a=1",
        "?utm_source=x", "#", "#top", " ", "\t", "\n", "[::1]", "é", "\\", "+", "..", "",
    ]
)  # fmt: skip
_UTM = st.sampled_from(
    [
        (("source", "lealta"), ("medium", "email"), ("campaign", "cart-reminder-1")),
        (("utm_source", "a b&c"), ("term", "é")),
        (("source", ""), ("medium", "")),
        (("source", "x"), ("utm_source", "y")),
    ]
)


@settings(max_examples=500)
@given(
    st.one_of(
        st.lists(_URL_PIECES, max_size=8).map("".join),
        st.lists(_URL_PIECES, max_size=4).map(lambda p: "https://shop.example/" + "".join(p)),
    ),
    _UTM,
)
def test_utm_is_added_as_urllib_reads_and_writes_the_url(
    url: str, utm: tuple[tuple[str, str], ...]
) -> None:
    try:
        expected = signing._with_utm_parsed(url, utm)
    except (InvalidInput, ValueError) as error:
        with pytest.raises(type(error)):
            signing._with_utm.__wrapped__(url, utm)
    else:
        assert signing._with_utm.__wrapped__(url, utm) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example",
        "https://shop.example/",
        "http://a.example:8080/p/0-5;x=1",
        "https://shop.example/a\tb",  # urllib drops the tab
        "https://shop.example/a b",
        "https://shop.example/\u00e9",
        "https://shop.example/a\\b",
        "https://shop.example/ ",
    ],
)
def test_a_target_gets_its_utm_as_urllib_writes_it(url: str) -> None:
    utm = (("source", "lealta"), ("medium", "email"))
    assert signing._with_utm.__wrapped__(url, utm) == signing._with_utm_parsed(url, utm)
    if signing._PLAIN_URL.fullmatch(url):
        assert with_utm(url, dict(utm)) == f"{url}?utm_source=lealta&utm_medium=email"


@pytest.mark.parametrize(
    "url",
    ["https://shop.example/p/1", "https://shop.example/?a=1&b=%C3%A9#top", "http://x.example"],
)
def test_a_target_worked_out_once_makes_the_click_links_click_makes(url: str) -> None:
    utm = {"source": "lealta", "medium": "email", "campaign": "c"}
    target = LINKS.click_target(url, utm=utm)
    for outbox_id in (1, 42, 10**12):
        assert LINKS.click_for(outbox_id, target) == LINKS.click(outbox_id, url, utm=utm)
    with pytest.raises(InvalidInput):
        LINKS.click_target("http://", utm=utm)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(max_codepoint=127)))
@example('a"b\\c')
@example("\x7f")
@example("0123456789abcdef0123456789abcdef")
def test_preference_links_carry_the_json_and_hmac_modules_own_tokens(contact_id: str) -> None:
    # the preference link puts its claims' JSON together itself for a plain contact id
    token = token_of(LINKS.preferences(contact_id))
    assert token == reference_token(LINKS, "a secret for tests", "prefs", {"c": contact_id})
