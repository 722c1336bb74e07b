"""Typed settings from the environment (``LEALTA_*``), a ``.env`` file and a TOML config file.

One cached :func:`get_settings`; nothing reads the environment anywhere else. Precedence, highest
first: arguments, environment, ``.env``, the config file (``LEALTA_CONFIG_FILE``, by default
``./lealta.toml`` when it exists), the defaults below.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PLACEHOLDER_SECRET = "change-me"
DEFAULT_CONFIG_FILE = "lealta.toml"


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
        Signs links and tokens. Outside development (``test``, ``production``) Lealta refuses
        to start with the placeholder.
    host, port
        Where ``lealta serve`` listens (default ``127.0.0.1:8000``).
    cors_origins
        Web origins allowed to call the API from a browser (the sites embedding ``/t.js``), as
        a JSON list in the environment: ``LEALTA_CORS_ORIGINS='["https://shop.example"]'``.
    track_rate_limit, admin_rate_limit
        Requests per second allowed per key (a burst of twice as many is absorbed).
    process_in_server
        Apply tracked events to profiles inside ``lealta serve`` (default). Turn off when
        separate ``lealta worker`` processes do it.
    respect_do_not_track
        The snippet sends nothing from browsers that ask not to be tracked.
    default_phone_region
        Region for phone numbers written without a country code (ISO 3166, e.g. ``ES``).
    quiet_hours
        Local hours (in each contact's time zone) when no message goes out, ``"21:00-08:00"``;
        empty for none.
    frequency_caps
        Caps across all workflows, as ``"MESSAGES/DAYSd"`` (``["3/7d", "1/1d"]``); over a cap a
        message is suppressed.
    """

    model_config = SettingsConfigDict(env_prefix="LEALTA_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./lealta.db"
    secret_key: str = PLACEHOLDER_SECRET
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list)
    track_rate_limit: float = Field(default=1000.0, gt=0)
    admin_rate_limit: float = Field(default=100.0, gt=0)
    process_in_server: bool = True
    respect_do_not_track: bool = True
    default_phone_region: str = "ES"
    quiet_hours: str = "21:00-08:00"
    frequency_caps: list[str] = Field(default_factory=lambda: ["3/7d"])

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("quiet_hours must look like 21:00-08:00 (or be empty)")
        return value

    @field_validator("frequency_caps")
    @classmethod
    def _caps(cls, value: list[str]) -> list[str]:
        for cap in value:
            if not re.fullmatch(r"[1-9]\d*/[1-9]\d*d", cap):
                raise ValueError(f"frequency cap {cap!r} must look like 3/7d")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                f"LEALTA_SECRET_KEY is still the placeholder; set a long random secret "
                f"before running in {self.environment}"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("LEALTA_CONFIG_FILE", DEFAULT_CONFIG_FILE))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file)
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
