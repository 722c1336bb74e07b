"""Browser push: the Web Push protocol (RFC 8030) with VAPID (RFC 8292) and encrypted payloads
(RFC 8291).

Each valid browser subscription of the contact gets a POST to its endpoint: the notification
as JSON (``title``, ``body``, ``icon``, ``image``, ``url``, ``tag``, ``data``), encrypted for
that browser, with ``TTL``, ``Urgency`` and ``Topic`` headers. The service worker Lealta serves
(``/sw.js``) shows it and opens ``url`` (a tracked link) on click.

Answers: 201/202 delivered; 404/410 the subscription is gone (the device is pruned); 429 and
5xx retried later (``Retry-After`` reported); 413 and other 4xx refuse the message. How the
devices' outcomes make the message's is in :mod:`lealta.channels.fanout`.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from lealta.channels import fanout, push_http
from lealta.channels.base import Delivery
from lealta.channels.jws import b64url_decode
from lealta.channels.webpush_crypto import (
    MAX_PLAINTEXT,
    VapidKeys,
    encrypt,
    vapid_authorization,
)
from lealta.clock import Clock, SystemClock
from lealta.config import Settings
from lealta.errors import InvalidInput, PermanentChannelError, TransientChannelError
from lealta.storage.unit_of_work import UnitOfWork

KIND = "webpush"


class WebPushChannel:
    """Delivers ``web_push`` outbox messages to the contact's browsers.

    ``allow_http`` lets endpoints use plain ``http`` (tests with a local push service); real
    browsers always hand out ``https`` endpoints, and without it any other is pruned unsent.
    """

    name = "web_push"

    def __init__(
        self,
        uow: UnitOfWork,
        keys: VapidKeys,
        *,
        subject: str,
        clock: Clock | None = None,
        timeout: float = 10.0,
        pool_size: int = 10,
        allow_http: bool = False,
    ) -> None:
        if not subject.startswith(("mailto:", "https:")):
            raise InvalidInput(
                "the VAPID subject must be a mailto: or https: URL", field="vapid_subject"
            )
        self.uow = uow
        self.keys = keys
        self.subject = subject
        self.clock = clock or SystemClock()
        self.allow_http = allow_http
        self._http = push_http.Poster(timeout=timeout, pool_size=pool_size)
        self._sent = fanout.SentKeys()

    @classmethod
    def from_settings(
        cls, settings: Settings, uow: UnitOfWork, clock: Clock | None = None
    ) -> WebPushChannel:
        """The channel configured by ``vapid_*`` settings (``InvalidInput`` when unset)."""
        keys = VapidKeys.from_settings(settings.vapid_private_key, settings.vapid_public_key)
        return cls(uow, keys, subject=settings.vapid_subject, clock=clock)

    def send(self, delivery: Delivery) -> str:
        """Push ``delivery`` to every browser of the contact; their message ids."""
        known = self._sent.get(delivery.idempotency_key)
        if known is not None:
            return known
        notice = fanout.notice(delivery)
        plaintext = json.dumps(notice, ensure_ascii=False, separators=(",", ":")).encode()
        if len(plaintext) > MAX_PLAINTEXT:
            raise PermanentChannelError(
                f"the notification is {len(plaintext)} bytes as JSON; at most {MAX_PLAINTEXT} fit"
            )
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(fanout.ttl_of(delivery)),
            "Urgency": fanout.urgency_of(delivery),
            "Topic": fanout.collapse_key(delivery),
        }
        results = [
            (target, self._push(target, plaintext, headers))
            for target in fanout.targets(self.uow, delivery.contact_id, KIND)
        ]
        provider = fanout.settle(
            self.uow, results, self.clock.now(), what="browser push subscription"
        )
        self._sent.put(delivery.idempotency_key, provider)
        return provider

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def _push(
        self, target: fanout.Target, plaintext: bytes, headers: dict[str, str]
    ) -> fanout.Outcome:
        endpoint = target.token
        if urlsplit(endpoint).scheme != "https" and not self.allow_http:
            return fanout.Outcome("gone", f"device {target.device_id}: endpoint is not https")
        try:
            keys = target.subscription.get("keys", {})
            body = encrypt(plaintext, b64url_decode(keys["p256dh"]), b64url_decode(keys["auth"]))
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            return fanout.Outcome("gone", f"device {target.device_id}: unusable keys ({exc})")
        authorization = vapid_authorization(
            self.keys, endpoint, subject=self.subject, now=self.clock.now()
        )
        try:
            answer = self._http.post(endpoint, body, {**headers, "Authorization": authorization})
        except TransientChannelError as exc:
            return fanout.Outcome("retry", f"device {target.device_id}: {exc}")
        return _judge(target, answer)


def _judge(target: fanout.Target, answer: push_http.Answer) -> fanout.Outcome:
    device = f"device {target.device_id}"
    status = answer.status
    if 200 <= status < 300:
        location = answer.headers.get("location", "").rstrip("/")
        return fanout.Outcome("sent", location.rsplit("/", 1)[-1] or f"webpush-{target.device_id}")
    reason = answer.body[:200].decode("utf-8", "replace").strip()
    detail = f"{device}: push service answered {status}" + (f" ({reason})" if reason else "")
    if status in (404, 410):
        return fanout.Outcome("gone", detail)
    if status == 429 or status >= 500:
        return fanout.Outcome("retry", detail + answer.retry_after())
    return fanout.Outcome("rejected", detail)
