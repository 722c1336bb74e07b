"""``lealta serve`` says at start whether quiet hours are on and how to change them."""

from __future__ import annotations

from lealta.cli.serve import quiet_hours_note


def test_the_note_says_quiet_hours_are_on_and_how_to_change_them() -> None:
    note = quiet_hours_note("21:00-08:00")
    assert "quiet hours: on, 21:00 to 08:00 in each contact's time zone" in note
    assert "GET /v1/outbox?status=held" in note
    assert "LEALTA_QUIET_HOURS=22:00-07:00" in note
    assert "LEALTA_QUIET_HOURS= (empty)" in note


def test_the_note_says_when_quiet_hours_are_off() -> None:
    assert "quiet hours: off" in quiet_hours_note("")
