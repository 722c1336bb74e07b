"""``lealta automations`` end to end: import, enable (refused while message templates are
missing), install a shipped workflow with its templates, list, export, simulate, stats (one
command as a real process, the others through the same app inside the test process)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli import lealta

CART = """id: abandoned-cart
name: Abandoned cart
trigger: {type: event, event: Checkout Started}
goal: {condition: {kind: purchased_since_entered}}
steps:
  - {id: wait-hour, type: wait, duration: 1h}
  - {id: remind, type: send, channel: email, template: cart-reminder-1}
"""


def _lealta(tmp_path: Path, *args: str, code: int = 0, process: bool = False) -> str:
    return lealta(tmp_path, "automations", *args, code=code, process=process)


def _run(tmp_path: Path, *args: str, code: int = 0) -> str:
    return lealta(tmp_path, *args, code=code)


def test_the_automations_commands(tmp_path: Path) -> None:
    source = tmp_path / "cart.yaml"
    source.write_text(CART)
    # A real process once (its exit code and output); the other commands run in this one.
    refused = _lealta(tmp_path, "import", str(source), "--enable", code=2, process=True)
    assert "version 1 (created)" in refused
    assert "message templates not stored yet: cart-reminder-1 (email)" in refused
    assert "cannot be enabled" in refused
    assert "abandoned-cart\tdraft\tv1" in _lealta(tmp_path, "list")
    assert "cart-reminder-1: version 1 (created)" in _run(
        tmp_path, "templates", "install", "cart-reminder-1"
    )
    assert "abandoned-cart: active" in _lealta(tmp_path, "enable", "abandoned-cart")
    assert "unchanged" in _lealta(tmp_path, "import", str(source))
    listed = _lealta(tmp_path, "list")
    assert "abandoned-cart\tactive\tv1" in listed
    exported = _lealta(tmp_path, "export", "abandoned-cart")
    assert "cart-reminder-1" in exported
    assert "Checkout Started" in exported
    timeline = _lealta(tmp_path, "simulate", "abandoned-cart", "--days", "1")
    assert "→ Send: channel=email, template=cart-reminder-1" in timeline
    bought = _lealta(tmp_path, "simulate", "abandoned-cart", "--event", "Order Completed@30m")
    assert "goal" in bought
    assert "Send" not in bought
    stats = json.loads(_lealta(tmp_path, "stats", "abandoned-cart"))
    assert stats["entered"] == 0
    schema = json.loads(_lealta(tmp_path, "schema"))
    assert "properties" in schema
    refused = _lealta(tmp_path, "import", str(_bad(tmp_path)), code=2)
    assert "nowhere" in refused


def test_a_shipped_workflow_installs_with_its_templates_and_enables(tmp_path: Path) -> None:
    missing = _lealta(tmp_path, "enable", "welcome-series", code=2)
    assert "no workflow 'welcome-series'" in missing
    installed = _lealta(tmp_path, "templates", "--install", "welcome-series")
    assert "welcome-series: version 1 (created)" in installed
    assert "message templates installed: welcome, welcome-2, welcome-3" in installed
    assert "welcome-series: active" in _lealta(tmp_path, "enable", "welcome-series")
    again = _lealta(tmp_path, "templates", "--install", "welcome-series")
    assert "unchanged" in again
    assert "installed" not in again  # nothing stored twice


def _bad(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CART.replace("duration: 1h}", "duration: 1h, next: nowhere}"))
    return bad
