"""``lealta automations import`` refuses a workflow naming loyalty tiers the programme in force
does not have (or naming tiers while no programme is in force), and stores nothing."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_automations_cli import _lealta, _run

PROGRAM = """
name: Friends
tiers:
  - name: Member
  - name: Silver
    qualify: {orders: 2}
  - name: Gold
    qualify: {orders: 4}
"""


def workflow(tier: str) -> str:
    return f"""id: vip-care
name: VIP care
trigger: {{type: manual}}
steps:
  - {{id: vip, type: if, condition: {{kind: loyalty_tier, in: [{tier}]}}, then: done, else: done}}
  - {{id: done, type: exit}}
"""


def test_import_refuses_unknown_tiers_with_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "vip.yaml"
    source.write_text(workflow("Goldd"))

    alone = _lealta(tmp_path, "import", str(source), code=2)
    assert "step 'vip'" in alone
    assert "no loyalty programme is in force" in alone

    (tmp_path / "program.yaml").write_text(PROGRAM)
    _run(tmp_path, "loyalty", "import", str(tmp_path / "program.yaml"))
    refused = _lealta(tmp_path, "import", str(source), code=2)
    assert "no loyalty tier 'Goldd'" in refused
    assert "its tiers are Member, Silver, Gold" in refused
    assert "vip-care" not in _lealta(tmp_path, "list")

    source.write_text(workflow("gold"))
    assert "vip-care: version 1 (created)" in _lealta(tmp_path, "import", str(source))
