"""API keys are stored hashed, checked in constant time, scoped and revocable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.errors import InvalidInput, NotFound
from lealta.keys.service import create_key, revoke_key, verify_key
from lealta.keys.tables import ApiKey
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def test_a_key_verifies_and_only_its_hash_is_stored(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        issued = create_key(session, scope="track", name="web site", now=NOW)
    with uow.transaction() as session:
        found = verify_key(session, issued.key)
        assert found is not None
        assert found.scope == "track"
        stored = session.scalars(select(ApiKey.secret_hash)).one()
    secret = issued.key.split("_", 2)[2]
    assert secret not in stored
    assert len(stored) == 64


@pytest.mark.parametrize(
    "tamper",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret
        lambda k: "lk_000000000000_" + k.split("_", 2)[2],  # unknown id
        lambda k: k.replace("lk_", "xx_", 1),  # not a Lealta key
        lambda k: "",
    ],
)
def test_a_wrong_or_malformed_key_is_refused(uow: UnitOfWork, tamper: object) -> None:
    with uow.transaction() as session:
        issued = create_key(session, scope="admin", now=NOW)
    with uow.transaction() as session:
        assert verify_key(session, tamper(issued.key)) is None  # type: ignore[operator]


def test_a_revoked_key_stops_working(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        issued = create_key(session, scope="admin", now=NOW)
    with uow.transaction() as session:
        revoke_key(session, issued.key_id, now=NOW)
    with uow.transaction() as session:
        assert verify_key(session, issued.key) is None
        with pytest.raises(NotFound):
            revoke_key(session, "nope", now=NOW)


def test_scopes_are_track_or_admin(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidInput, match="track or admin"), uow.transaction() as session:
        create_key(session, scope="owner", now=NOW)


def test_the_cli_prints_the_new_key_as_its_last_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lealta.config import get_settings

    monkeypatch.setenv("LEALTA_DATABASE_URL", f"sqlite:///{tmp_path / 'keys.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["keys", "create", "--scope", "track", "--name", "shop"])
        assert result.exit_code == 0, result.output
        key = result.stdout.strip().splitlines()[-1]
        assert key.startswith("lk_")
        listing = CliRunner().invoke(app, ["keys", "list"])
        assert "track\tactive" in listing.stdout
        assert key not in listing.stdout
    finally:
        get_settings.cache_clear()


def test_revoke_help_tells_how_long_servers_keep_accepting_the_key() -> None:
    from lealta.rest.auth import KeyCache

    result = CliRunner().invoke(app, ["keys", "revoke", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "at once" not in result.output
    assert f"within {KeyCache().ttl:g} seconds" in result.output
