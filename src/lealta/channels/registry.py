"""The channels a deployment can send on, built from its settings.

A channel is on when its settings are there: e-mail with ``LEALTA_SMTP_HOST``, SMS with
``LEALTA_SMS_ACCOUNT_SID``, mobile push with ``LEALTA_FCM_CREDENTIALS_FILE``, browser push with
``LEALTA_VAPID_PRIVATE_KEY``; webhooks always. Messages for a channel that is off wait in the
outbox (see :data:`lealta.channels.dispatcher.KNOWN_CHANNELS`) and go out once it is set up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lealta.bootstrap import Services
from lealta.channels.base import Channel
from lealta.config import Settings

log = logging.getLogger(__name__)

#: What switches each channel on (webhooks need nothing).
ENABLED_BY = {
    "email": "LEALTA_SMTP_HOST",
    "sms": "LEALTA_SMS_ACCOUNT_SID",
    "push": "LEALTA_FCM_CREDENTIALS_FILE",
    "web_push": "LEALTA_VAPID_PRIVATE_KEY",
    "webhook": "",
}


def switched_on(settings: Settings) -> dict[str, bool]:
    """Channel name → whether the settings enable it (the rule :func:`configured` follows)."""
    return {
        "email": bool(settings.smtp_host),
        "sms": bool(settings.sms_account_sid),
        "push": bool(settings.fcm_credentials_file),
        "web_push": bool(settings.vapid_private_key),
        "webhook": True,
    }


def configured(services: Services) -> dict[str, Channel]:
    """Channel name → channel, for every channel the settings enable."""
    from lealta.channels.email import EmailChannel
    from lealta.channels.fcm import FcmChannel
    from lealta.channels.sms import SmsChannel
    from lealta.channels.webhook import WebhookChannel
    from lealta.channels.webpush import WebPushChannel

    settings = services.settings
    on = switched_on(settings)
    found: dict[str, Channel] = {}
    found["webhook"] = WebhookChannel.from_settings(settings, clock=services.clock)
    if on["email"]:
        found["email"] = EmailChannel.from_settings(settings, clock=services.clock)
    if on["sms"]:
        found["sms"] = SmsChannel.from_settings(settings)
    if on["push"]:
        found["push"] = FcmChannel.from_settings(settings, services.uow, services.clock)
    if on["web_push"]:
        found["web_push"] = WebPushChannel.from_settings(settings, services.uow, services.clock)
    log.info("sending on: %s", ", ".join(sorted(found)))
    return found


def close(channels: Mapping[str, Any]) -> None:
    """Close the channels' connections (those that keep any)."""
    for name, channel in channels.items():
        closer = getattr(channel, "close", None)
        if callable(closer):
            try:
                closer()
            except Exception:  # closing is best effort; the process is ending anyway
                log.exception("closing the %s channel failed", name)


@contextmanager
def opened(services: Services) -> Iterator[dict[str, Channel]]:
    """The configured channels, closed afterwards."""
    channels = configured(services)
    try:
        yield channels
    finally:
        close(channels)
