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

from lealta.tracking.consent import DEFAULT_CATEGORIES, Channel
from lealta.tracking.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES

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
    public_url
        The address people reach Lealta at, for tracked links, the open pixel, unsubscribe and
        preference pages (``https://mail.shop.example``); ``http://HOST:PORT`` when empty.
    smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, smtp_timeout, smtp_pool_size
        The SMTP relay e-mail goes through; e-mail is sent only once ``smtp_host`` is set (until
        then e-mail messages wait in the outbox). ``smtp_security``
        is ``none``, ``starttls`` or ``tls`` (implicit TLS, usually port 465); login only when a
        user name is set; ``smtp_pool_size`` connections are kept open and reused.
    email_from, email_reply_to
        The sender (``"Shop <news@shop.example>"``) and an optional reply-to address.
    sms_api_url, sms_account_sid, sms_auth_token, sms_sender
        The SMS provider (a Twilio-compatible REST API: ``https://api.twilio.com``), its
        account and token, and the sender id or number.
    fcm_api_url, fcm_token_url, fcm_credentials_file
        Firebase Cloud Messaging (HTTP v1) for mobile push: the API and OAuth token endpoints
        and the path of the service account's JSON key file.
    vapid_public_key, vapid_private_key, vapid_subject
        The VAPID key pair (base64url, as ``lealta push vapid-keys`` prints them) and contact
        (``mailto:…``) for browser push.
    webhook_secret
        Signs outgoing webhooks (HMAC-SHA256); derived from ``secret_key`` when empty.
    send_threads
        Threads each worker sends with (default 1). More overlap one thread's rendering with
        another's waits on a slow relay or provider; a worker that dies then leaves at most one
        chunk of messages (64) marked interrupted per thread, none sent twice.
    render_processes
        Processes each worker renders large mailings in (default 1; 0: in the sending thread).
        While one renders the next batch of 200, the sending thread sends the batch before, so
        a worker uses two cores (see :mod:`lealta.channels.render_ahead`).
    channel_rate_limits
        Messages per second per channel, e.g. ``{"email": 500, "sms": 20}``; unlimited when
        a channel is not named.
    consent_categories
        Which channels each category of a consent banner stands for, when tracking messages
        carry Segment's ``context.consent.categoryPreferences``: ``{"newsletter": ["email"],
        "push": ["push", "web_push"]}``. Category names are compared in lower case, spaces and
        hyphens as ``_``; categories not named are ignored. The default is
        :data:`lealta.tracking.consent.DEFAULT_CATEGORIES`.
    max_body_bytes
        The largest request body any route accepts (default 1 MiB); larger bodies are answered
        413 as soon as the limit is passed, without reading the rest.
    max_track_batch_bytes, max_track_message_bytes
        The same limit for ``/v1/batch`` (default 500 KB) and for the single-message tracking
        routes (``/v1/track``, ``/v1/identify`` …, default 32 KB). Gzip bodies count inflated.
    attribution_days
        A purchase within this many days of a click (or an open, when there was no click) is
        credited to the message (default 5).
    loyalty_review_hour, loyalty_orders_every
        The worker reviews every customer's loyalty tier once a day at the first pass at or
        after this hour, UTC (default 3; ``-1``: never), and every this many seconds the
        customers whose orders arrived since (default 60; ``0``: never). See
        :mod:`lealta.loyalty.schedule`.
    audiences_refresh_every
        The worker refreshes every saved audience (members, entered/exited events, the day's
        size) every this many seconds (default 300; ``0``: never). See
        :mod:`lealta.audiences.schedule`.
    next_best_schedule, next_best_by
        When the worker recomputes every contact's next-best items (``contact_next_best``):
        ``after_rfm`` (default; after each RFM job), ``daily`` (once a UTC day) or ``off``
        (only when asked); and of what: ``category`` (default) or ``product``. See
        :mod:`lealta.affinity.schedule`.
    clv_schedule
        When the worker refits the predicted value and churn risk of every contact (the
        ``clv`` job): ``weekly`` (default), ``daily``, ``after_rfm`` or ``off`` (only when
        asked). Skipped, with a log line, without the ``clv`` extra or with too few repeat
        customers. See :mod:`lealta.prediction.schedule`.
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
    public_url: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = Field(default=30.0, gt=0)
    smtp_pool_size: int = Field(default=2, ge=1, le=64)
    email_from: str = "Lealta <no-reply@localhost>"
    email_reply_to: str = ""
    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_sender: str = ""
    fcm_api_url: str = "https://fcm.googleapis.com"
    fcm_token_url: str = "https://oauth2.googleapis.com/token"
    fcm_credentials_file: str = ""
    vapid_public_key: str = ""
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:admin@localhost"
    webhook_secret: str = ""
    send_threads: int = Field(default=1, ge=1, le=32)
    render_processes: int = Field(default=1, ge=0, le=32)
    channel_rate_limits: dict[str, float] = Field(default_factory=dict)
    attribution_days: int = Field(default=5, ge=0, le=365)
    consent_categories: dict[str, list[Channel]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_CATEGORIES.items()}
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_track_batch_bytes: int = Field(default=MAX_BATCH_BYTES, ge=1024)
    max_track_message_bytes: int = Field(default=MAX_MESSAGE_BYTES, ge=1024)
    loyalty_review_hour: int = Field(default=3, ge=-1, le=23)
    loyalty_orders_every: float = Field(default=60.0, ge=0)
    audiences_refresh_every: float = Field(default=300.0, ge=0)
    next_best_schedule: Literal["off", "after_rfm", "daily"] = "after_rfm"
    next_best_by: Literal["category", "product"] = "category"
    clv_schedule: Literal["off", "after_rfm", "daily", "weekly"] = "weekly"

    @property
    def base_url(self) -> str:
        """Where people reach Lealta: ``public_url``, or ``http://HOST:PORT``."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

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
