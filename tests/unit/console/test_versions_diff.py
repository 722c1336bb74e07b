"""What changed between two versions, in sentences and as a unified YAML diff."""

from __future__ import annotations

from lealta.automations import catalog
from lealta.automations.definition import load_definition
from lealta.console.versions_diff import changes, unified

REACTIVATION = catalog.template_text("inactive-reactivation")


def _edited(old: str, new: str) -> list[str]:
    before = load_definition(REACTIVATION)
    after = load_definition(REACTIVATION.replace(old, new))
    return changes(before, after)


def test_a_wait_that_changes_reads_in_days() -> None:
    assert _edited("duration: 5d", "duration: 3d") == [
        "Wait 'window' changed from 5 days to 3 days"
    ]


def test_added_and_removed_steps_are_named() -> None:
    before = load_definition(REACTIVATION)
    after = load_definition(
        REACTIVATION.replace("else: last-chance", "else: email_2").replace(
            "  - {id: last-chance, type: send, channel: email, template: reactivation-last-chance}",
            "  - {id: email_2, type: send, channel: email, template: reactivation-last-chance}",
        )
    )
    found = changes(before, after)
    assert "If / else 'interacted': else changed from last-chance to email_2" in found
    assert "Step 'email_2' added: Send e-mail reactivation-last-chance" in found
    assert "Step 'last-chance' removed (was: Send e-mail reactivation-last-chance)" in found


def test_a_field_change_names_the_field() -> None:
    found = _edited("template: offer-reminder}", "template: offer-reminder-2}")
    assert found == ["Send 'reminder': template changed from offer-reminder to offer-reminder-2"]


def test_trigger_and_entry_rules() -> None:
    found = _edited("to: Inactive}", "to: Lapsed}")
    assert found == [
        "Trigger changed from “lifecycle stage becomes Inactive” to "
        "“lifecycle stage becomes Lapsed”"
    ]
    entry = _edited("reenter_after_days: 90", "reenter_after_days: 30")
    assert entry == ["Entry rules changed: reenter_after_days from 90 to 30"]


def test_the_same_version_has_no_change_and_an_empty_diff() -> None:
    rules = load_definition(REACTIVATION)
    assert changes(rules, rules) == []
    assert unified(rules, rules, "version 1", "version 2") == ""


def test_the_unified_diff_shows_the_changed_line() -> None:
    before = load_definition(REACTIVATION)
    after = load_definition(REACTIVATION.replace("duration: 5d", "duration: 3d"))
    text = unified(before, after, "version 1", "version 2")
    assert "--- version 1" in text
    assert "+++ version 2" in text
    assert "-  duration: 5d" in text
    assert "+  duration: 3d" in text
