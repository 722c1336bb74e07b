"""``lealta audiences import|list|show|export|count|refresh|members|explain`` on a store
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lealta.cli.main import app as cli
from lealta.config import get_settings
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.audiences.helpers import add_contacts, tag

VIPS = (
    "name: VIPs\ncondition: {kind: all, conditions: "
    "[{kind: tag, tag: vip}, {kind: tag, tag: berlin}]}\n"
)
COMMANDS = ("list", "show", "import", "export", "count", "members", "explain", "refresh")


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", "/nonexistent/lealta.toml")
    get_settings.cache_clear()
    try:
        yield CliRunner()
    finally:
        get_settings.cache_clear()


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    done = runner.invoke(cli, ["audiences", *args])
    assert done.exit_code == code, done.output
    return done.output


def test_every_command_explains_itself() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["audiences", "--help"]).output
    for command in COMMANDS:
        assert command in top
        assert runner.invoke(cli, ["audiences", command, "--help"]).exit_code == 0


def test_the_audience_commands(runner: CliRunner, uow: UnitOfWork, tmp_path: Path) -> None:
    with uow.transaction() as session:
        ana, ben = add_contacts(session, 2)
        for cid in (ana, ben):
            tag(session, cid, "vip")
        tag(session, ben, "berlin")
    source = tmp_path / "vips.yaml"
    source.write_text(VIPS, encoding="utf-8")
    assert run(runner, "import", str(source)) == "VIPs: version 1 (created)\n"
    out = run(runner, "count", "VIPs", "--funnel")
    assert "estimate: 1 (every one of 2 contacts looked at)" in out
    assert "exact: 1" in out
    assert "after condition 1 (has the tag 'vip'): 2" in out
    out = run(runner, "count", "{kind: tag, tag: vip}", "--estimate")
    assert out.startswith("estimate: 2")
    assert "exact" not in out
    assert run(runner, "refresh", "VIPs").startswith("VIPs: 1 members, 1 entered, 0 exited")
    assert run(runner, "list").split("\t")[1:3] == ["VIPs", "1"]
    assert run(runner, "members", "VIPs").split("\t")[0] == ben
    out = run(runner, "explain", "VIPs", ana)
    assert out.splitlines()[0].startswith(f"{ana} is out of 'VIPs'")
    assert "  ✓ has the tag 'vip'" in out
    assert "  ✗ has the tag 'berlin'" in out
    assert run(runner, "show", "VIPs").startswith("# audience 1, version 1: 1 members")
    run(runner, "export", "VIPs", "-o", str(tmp_path / "out.json"))
    exported = yaml.safe_load((tmp_path / "out.json").read_text("utf-8"))
    assert exported["condition"]["conditions"][1]["tag"] == "berlin"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\ncondition: {kind: score, gte: 5, lte: 1}\n", encoding="utf-8")
    assert "gte 5 is above lte 1" in run(runner, "import", str(bad), code=2)
    assert "no audience 'Nobody'" in run(runner, "show", "Nobody", code=2)
