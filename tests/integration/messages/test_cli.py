"""``lealta templates`` on SQLite and PostgreSQL: install, list, export, import, validate,
preview."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lealta.cli.main import app as cli
from lealta.config import get_settings
from lealta.messages import catalog
from tests.integration.messages.conftest import Shop


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_PUBLIC_URL", "https://mail.tea.example")
    get_settings.cache_clear()
    try:
        yield CliRunner()
    finally:
        get_settings.cache_clear()


def test_every_command_explains_itself() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["templates", "--help"])
    assert top.exit_code == 0
    for command in ("list", "import", "export", "validate", "preview", "install", "schema"):
        assert command in top.output
        helped = runner.invoke(cli, ["templates", command, "--help"])
        assert helped.exit_code == 0, command
    assert "--contact" in runner.invoke(cli, ["templates", "preview", "--help"]).output


def test_install_list_export_and_import_round_trip(
    runner: CliRunner, shop: Shop, tmp_path: Path
) -> None:
    installed = runner.invoke(cli, ["templates", "install"])
    assert installed.exit_code == 0, installed.output
    assert "birthday: version 1 (created)" in installed.output
    shipped = catalog.shipped_ids()
    assert installed.output.count("version 1 (created)") == len(shipped)
    again = runner.invoke(cli, ["templates", "install"]).output
    assert again.count("already there") == len(shipped)
    listed = runner.invoke(cli, ["templates", "list"]).output.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [[t, "email", "v1"] for t in shipped]
    # the whole library: every template the shipped workflows send
    assert {"nurture-offer", "reactivation-feedback", "welcome-3", "win-back-3"} <= set(shipped)
    target = tmp_path / "birthday.yaml"
    exported = runner.invoke(cli, ["templates", "export", "birthday", "-o", str(target)])
    assert exported.exit_code == 0, exported.output
    edited = target.read_text(encoding="utf-8").replace("Happy birthday", "Many happy returns")
    target.write_text(edited, encoding="utf-8")
    imported = runner.invoke(cli, ["templates", "import", str(target)])
    assert imported.exit_code == 0, imported.output
    assert "birthday: version 2 (new version)" in imported.output
    shown = runner.invoke(cli, ["templates", "export", "birthday"]).output
    assert "Many happy returns" in shown
    assert runner.invoke(cli, ["templates", "export", "nope"]).exit_code == 2


def test_validate_reports_problems_with_lines_and_fails(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "templates": [
                    {"id": "ok", "channel": "sms", "body": {"text": "Hi {{ contact.name }}"}},
                    {"id": "typo", "channel": "sms", "body": {"text": "Hi\n{{ contcat.name }}"}},
                ]
            }
        ),
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["templates", "validate", str(bad)])
    assert result.exit_code == 2
    assert "ok: ok" in result.stdout
    assert "typo: 1 error(s)" in result.stdout
    assert "typo: error: text line 2: unknown variable 'contcat'" in result.stderr
    imported = runner.invoke(cli, ["templates", "import", str(bad)])
    assert imported.exit_code == 2
    assert "text line 2" in imported.stderr
    assert runner.invoke(cli, ["templates", "list"]).output == ""  # nothing half-imported


def test_preview_renders_for_a_contact(runner: CliRunner, shop: Shop, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["templates", "install", "birthday"]).exit_code == 0
    ana = shop.person("ana@example.com", first_name="Ana", language="es")
    subject = runner.invoke(
        cli, ["templates", "preview", "birthday", "--contact", ana, "--part", "subject"]
    )
    assert subject.exit_code == 0, subject.output
    assert subject.output == "¡Feliz cumpleaños, Ana!"
    whole = runner.invoke(
        cli,
        ["templates", "preview", "birthday", "--contact", ana, "--language", "en", "--payload",
         '{"voucher": {"display": "BDAY-2025", "value": 20}}'],
    )  # fmt: skip
    parts = json.loads(whole.stdout)
    assert parts["subject"] == "Happy birthday, Ana!"
    assert "BDAY-2025" in parts["html"]
    draft = tmp_path / "draft.yaml"
    draft.write_text("id: d\nchannel: sms\nbody: {text: 'Hola {{ contact.first_name }}'}\n")
    from_file = runner.invoke(cli, ["templates", "preview", str(draft), "--contact", ana])
    assert json.loads(from_file.stdout) == {"text": "Hola Ana"}
    unknown = runner.invoke(cli, ["templates", "preview", "birthday", "--contact", "nobody"])
    assert unknown.exit_code == 2
    schema = runner.invoke(cli, ["templates", "schema"])
    assert json.loads(schema.stdout)["title"] == "Lealta message template"
