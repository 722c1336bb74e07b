from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lealta.config import Settings


def test_defaults_are_the_embedded_database_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LEALTA_ENVIRONMENT", "LEALTA_DATABASE_URL", "LEALTA_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./lealta.db"
    assert settings.environment == "development"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEALTA_DATABASE_URL", "postgresql+psycopg://db/lealta")
    assert Settings(_env_file=None).database_url == "postgresql+psycopg://db/lealta"


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_the_placeholder_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setenv("LEALTA_ENVIRONMENT", environment)
    monkeypatch.delenv("LEALTA_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="LEALTA_SECRET_KEY"):
        Settings(_env_file=None)
    monkeypatch.setenv("LEALTA_SECRET_KEY", "a-long-random-secret-value")
    assert Settings(_env_file=None).environment == environment


def test_a_toml_config_file_is_read_below_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "lealta.toml"
    config.write_text('port = 9001\ncors_origins = ["https://shop.example"]\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(config))
    monkeypatch.setenv("LEALTA_HOST", "127.0.0.2")
    settings = Settings(_env_file=None)
    assert settings.port == 9001
    assert settings.cors_origins == ["https://shop.example"]
    assert settings.host == "127.0.0.2"  # the environment wins over the file


def test_a_bad_value_in_the_config_file_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "lealta.toml"
    config.write_text("port = 70000\n")
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(config))
    with pytest.raises(ValidationError, match="port"):
        Settings(_env_file=None)


def test_sending_policy_settings_are_checked_and_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    from lealta.channels.sender import sending_policy

    settings = Settings(_env_file=None, quiet_hours="22:30-07:00", frequency_caps=["3/7d", "1/1d"])
    quiet, caps = sending_policy(settings)
    assert quiet is not None
    assert (quiet.start, quiet.end) == ("22:30", "07:00")
    assert [(c.max_messages, c.per_days) for c in caps] == [(3, 7), (1, 1)]
    assert sending_policy(Settings(_env_file=None, quiet_hours="", frequency_caps=[]))[0] is None
    with pytest.raises(ValidationError, match="quiet_hours"):
        Settings(_env_file=None, quiet_hours="late")
    with pytest.raises(ValidationError, match="3/7d"):
        Settings(_env_file=None, frequency_caps=["three a week"])
