"""``lealta jobs list`` and ``lealta jobs show`` on a SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lealta.bootstrap import build
from lealta.cli.main import app
from lealta.config import get_settings
from lealta.jobs import runner, service

cli = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'lealta.db'}"
    monkeypatch.setenv("LEALTA_DATABASE_URL", url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_jobs_are_listed_and_shown_with_their_error(store: str) -> None:
    empty = cli.invoke(app, ["jobs", "list"])
    assert empty.exit_code == 0
    assert "no jobs yet" in empty.stderr
    services = build()
    now = services.clock.now()
    job, _new = service.enqueue(services.uow, kind="rfm", params={}, requested_by="ana", now=now)
    runner.run_next(services)  # no orders: fails in words
    listed = cli.invoke(app, ["jobs", "list", "--kind", "rfm"])
    assert listed.exit_code == 0
    assert listed.stdout.startswith(f"{job.id}\trfm\tfailed\t")
    assert "there are no orders in the store yet" in listed.stdout
    shown = cli.invoke(app, ["jobs", "show", job.id])
    assert shown.exit_code == 0
    assert "status: failed" in shown.stdout
    assert "requested_by: ana" in shown.stdout
    missing = cli.invoke(app, ["jobs", "show", "nope"])
    assert missing.exit_code == 2
    assert "no job 'nope'" in missing.stderr
    services.uow.engine.dispose()


def test_jobs_help_says_what_runs_them() -> None:
    answer = cli.invoke(app, ["jobs", "--help"])
    assert answer.exit_code == 0
    assert "lealta worker" in answer.stdout
