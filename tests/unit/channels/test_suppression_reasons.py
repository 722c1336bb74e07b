"""The kind of a suppression, read from the dispatcher's reason (for workflow statistics)."""

from __future__ import annotations

import pytest

from lealta.channels.outbox import suppression_reason


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("no consent for email", "no_consent"),
        ("no consent for web_push", "no_consent"),
        ("email is on the suppression list", "suppression_list"),
        ("phone is on the suppression list", "suppression_list"),
        ("frequency cap reached: 3 messages per 7 days", "frequency_cap"),
        ("contact erased", "erased"),
        ("contact merged into c-2", "merged"),
        ("something new", "other"),
        (None, "other"),
    ],
)
def test_each_reason_the_dispatcher_gives_has_its_kind(error: str | None, kind: str) -> None:
    assert suppression_reason(error) == kind
