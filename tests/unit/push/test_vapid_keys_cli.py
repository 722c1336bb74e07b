"""``lealta push vapid-keys`` prints a usable key pair in the settings' format."""

from __future__ import annotations

from typer.testing import CliRunner

from lealta.channels.webpush_crypto import VapidKeys
from lealta.cli.main import app


def test_the_printed_keys_are_accepted_by_the_settings() -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["push", "vapid-keys"])
    assert first.exit_code == 0, first.output
    lines = dict(line.split("=", 1) for line in first.stdout.strip().splitlines())
    assert set(lines) == {"LEALTA_VAPID_PUBLIC_KEY", "LEALTA_VAPID_PRIVATE_KEY"}
    keys = VapidKeys.from_settings(
        lines["LEALTA_VAPID_PRIVATE_KEY"], lines["LEALTA_VAPID_PUBLIC_KEY"]
    )
    assert keys.public_b64 == lines["LEALTA_VAPID_PUBLIC_KEY"]
    second = runner.invoke(app, ["push", "vapid-keys"])
    assert second.stdout != first.stdout
