"""Double opt-in tokens: signed per form and person, refused when forged or stale."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.errors import InvalidInput
from lealta.forms.tokens import read_confirmation, sign_confirmation

NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def test_a_token_reads_back_its_contact() -> None:
    token = sign_confirmation("s3cret", slug="news", contact_id="c1", issued_at=NOW)
    assert read_confirmation("s3cret", token, slug="news", now=NOW + dt.timedelta(days=2)) == "c1"


@pytest.mark.parametrize(
    ("secret", "slug", "later"),
    [("other", "news", 0), ("s3cret", "other", 0), ("s3cret", "news", 31)],
)
def test_a_token_is_refused_with_another_secret_form_or_after_thirty_days(
    secret: str, slug: str, later: int
) -> None:
    token = sign_confirmation("s3cret", slug="news", contact_id="c1", issued_at=NOW)
    with pytest.raises(InvalidInput) as error:
        read_confirmation(secret, token, slug=slug, now=NOW + dt.timedelta(days=later))
    assert error.value.field == "token"


@pytest.mark.parametrize("token", ["", "c1", "c1.abc.sig", "c2.1740787200.x"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidInput):
        read_confirmation("s3cret", token, slug="news", now=NOW)
