"""Typed settings from the environment (``LEALTA_*``) and an optional ``.env`` file.

One cached :func:`get_settings`; nothing reads the environment anywhere else.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    """Lealta's settings; each field is ``LEALTA_<NAME>`` in the environment.

    Attributes
    ----------
    environment
        ``development`` (default), ``test`` or ``production``.
    database_url
        SQLAlchemy URL of the state store: SQLite ``sqlite:///./lealta.db`` by default,
        PostgreSQL as ``postgresql+psycopg://user:password@host:5432/lealta``.
    secret_key
        Signs links and tokens. Must be changed outside development.
    """

    model_config = SettingsConfigDict(env_prefix="LEALTA_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./lealta.db"
    secret_key: str = PLACEHOLDER_SECRET

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                "LEALTA_SECRET_KEY is still the placeholder; set a long random secret "
                "before running in production"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
