"""On SQLite the worker's state database syncs every commit (``synchronous=FULL``): a batch of
tracked messages is applied, committed, and only then deleted from the separate inbox file, so
the batch must be on disk before the deletion can be. Other processes keep ``NORMAL``, and the
inbox does too (a deletion lost to a power cut only means the batch is applied again, which
its message ids make harmless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text

from lealta.bootstrap import build
from lealta.config import Settings
from lealta.storage.unit_of_work import UnitOfWork

FULL, NORMAL = 2, 1


def _synchronous(uow: UnitOfWork) -> int:
    with uow.engine.connect() as connection:
        return int(connection.execute(text("PRAGMA synchronous")).scalar_one())


def test_the_durable_state_database_syncs_every_commit_and_the_inbox_does_not(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lealta.db'}")
    durable = build(settings, durable=True)
    assert durable.inbox is not durable.uow  # the separate inbox file
    assert _synchronous(durable.uow) == FULL
    assert _synchronous(durable.inbox) == NORMAL
    plain = build(settings, migrate=False)
    assert _synchronous(plain.uow) == NORMAL


def test_the_worker_command_builds_durable_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import lealta.bootstrap
    from lealta.cli.serve import worker_command

    asked: list[dict[str, Any]] = []

    def build_spy(*args: Any, **options: Any) -> None:
        asked.append(options)
        raise typer.Exit(7)  # the worker goes no further

    monkeypatch.setattr(lealta.bootstrap, "build", build_spy)
    with pytest.raises(typer.Exit):
        worker_command(
            poll=1.0, nice=0, exit_with_parent=False, parent_pid=None, log_level="info",
            send=False,
        )  # fmt: skip
    assert asked == [{"durable": True}]
