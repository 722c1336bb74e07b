from __future__ import annotations

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


def test_production_refuses_the_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEALTA_ENVIRONMENT", "production")
    monkeypatch.delenv("LEALTA_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="LEALTA_SECRET_KEY"):
        Settings(_env_file=None)
    monkeypatch.setenv("LEALTA_SECRET_KEY", "a-long-random-secret-value")
    assert Settings(_env_file=None).environment == "production"
