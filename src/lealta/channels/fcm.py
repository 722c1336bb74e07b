"""Mobile push through Firebase Cloud Messaging's HTTP v1 API.

Authentication is OAuth 2.0 for a service account: an RS256 JWT assertion signed with the
account's private key is traded at the token endpoint
(``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``) for an access token, kept until a
minute before it expires. Each valid FCM device of the contact gets
``POST {api}/v1/projects/{project}/messages:send`` with the notification (``title``, ``body``,
``image``), string ``data`` (``url``, ``outbox_id`` and the template's ``data``) and minimal
Android and APNs options.

Answers: ``UNREGISTERED`` (404), a bad ``message.token`` (400 ``INVALID_ARGUMENT``) and
``SENDER_ID_MISMATCH`` (403) prune the device; 429 and 5xx are retried later (``Retry-After``
reported); 401 fetches a new access token and tries once more, then gives up for now; other
4xx refuse the message. How the devices' outcomes make the message's is in
:mod:`lealta.channels.fanout`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lealta.channels import fanout, push_http
from lealta.channels.base import Delivery
from lealta.channels.jws import sign_rs256
from lealta.clock import Clock, SystemClock
from lealta.config import Settings
from lealta.errors import InvalidInput, TransientChannelError
from lealta.storage.unit_of_work import UnitOfWork

KIND = "fcm"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = dt.timedelta(hours=1)
EARLY_REFRESH = dt.timedelta(seconds=60)
_RESERVED_DATA = ("from", "message_type", "collapse_key")


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a Google service account key file FCM needs."""

    project_id: str
    client_email: str
    private_key: rsa.RSAPrivateKey
    private_key_id: str = ""
    token_uri: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServiceAccount:
        """Read the key file's JSON; ``InvalidInput`` (field ``fcm_credentials_file``)."""
        field = "fcm_credentials_file"
        missing = [k for k in ("project_id", "client_email", "private_key") if not data.get(k)]
        if missing:
            raise InvalidInput(f"the service account file lacks {', '.join(missing)}", field=field)
        try:
            key = serialization.load_pem_private_key(str(data["private_key"]).encode(), None)
        except (ValueError, TypeError):
            raise InvalidInput(
                "the service account's private_key is not a PEM key", field=field
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidInput("the service account's private_key is not an RSA key", field=field)
        return cls(
            project_id=str(data["project_id"]),
            client_email=str(data["client_email"]),
            private_key=key,
            private_key_id=str(data.get("private_key_id") or ""),
            token_uri=str(data.get("token_uri") or ""),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> ServiceAccount:
        """Read a service account key file (JSON, as downloaded from the Firebase console)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"cannot read the FCM service account file {str(path)!r}: {exc}",
                field="fcm_credentials_file",
            ) from None
        if not isinstance(data, dict):
            raise InvalidInput("expected a JSON object", field="fcm_credentials_file")
        return cls.from_json(data)


class FcmChannel:
    """Delivers ``push`` outbox messages to the contact's apps through FCM HTTP v1.

    ``token_url`` is the OAuth token endpoint (``fcm_token_url``); when empty the key file's
    ``token_uri`` is used.
    """

    name = "push"

    def __init__(
        self,
        uow: UnitOfWork,
        account: ServiceAccount,
        *,
        api_url: str = "https://fcm.googleapis.com",
        token_url: str = "",
        clock: Clock | None = None,
        timeout: float = 10.0,
        pool_size: int = 10,
    ) -> None:
        self.uow = uow
        self.account = account
        self.send_url = (
            f"{api_url.rstrip('/')}/v1/projects/"
            f"{urllib.parse.quote(account.project_id, safe='')}/messages:send"
        )
        self.token_url = token_url or account.token_uri
        if not self.token_url:
            raise InvalidInput("no OAuth token endpoint for FCM", field="fcm_token_url")
        self.clock = clock or SystemClock()
        self._http = push_http.Poster(timeout=timeout, pool_size=pool_size)
        self._token: tuple[str, dt.datetime] | None = None
        self._lock = threading.Lock()
        self._sent = fanout.SentKeys()

    @classmethod
    def from_settings(
        cls, settings: Settings, uow: UnitOfWork, clock: Clock | None = None
    ) -> FcmChannel:
        """The channel configured by the ``fcm_*`` settings (``InvalidInput`` when unset)."""
        if not settings.fcm_credentials_file:
            raise InvalidInput(
                "mobile push needs LEALTA_FCM_CREDENTIALS_FILE (a service account key file)",
                field="fcm_credentials_file",
            )
        return cls(
            uow,
            ServiceAccount.from_file(settings.fcm_credentials_file),
            api_url=settings.fcm_api_url,
            token_url=settings.fcm_token_url,
            clock=clock,
        )

    # -- sending -------------------------------------------------------------------------

    def send(self, delivery: Delivery) -> str:
        """Push ``delivery`` to every app install of the contact; FCM's message ids."""
        known = self._sent.get(delivery.idempotency_key)
        if known is not None:
            return known
        message = self.message(delivery)
        results = [
            (target, self._push(target, message))
            for target in fanout.targets(self.uow, delivery.contact_id, KIND)
        ]
        provider = fanout.settle(self.uow, results, self.clock.now(), what="app push device")
        self._sent.put(delivery.idempotency_key, provider)
        return provider

    def message(self, delivery: Delivery) -> dict[str, Any]:
        """The FCM ``message`` for ``delivery``, without the device ``token``."""
        notice = fanout.notice(delivery)
        ttl = fanout.ttl_of(delivery)
        high = fanout.urgency_of(delivery) == "high"
        collapse = fanout.collapse_key(delivery)
        notification = {k: notice[k] for k in ("title", "body", "image") if k in notice}
        data = {k: _text(v) for k, v in notice["data"].items() if _allowed_data_key(str(k))}
        for name in ("url", "icon", "tag"):
            if name in notice:
                data.setdefault(name, notice[name])
        expires = int((self.clock.now() + dt.timedelta(seconds=ttl)).timestamp())
        return {
            "notification": notification,
            "data": {str(k): v for k, v in data.items()},
            "android": {
                "priority": "HIGH" if high else "NORMAL",
                "ttl": f"{ttl}s",
                "collapse_key": collapse,
            },
            "apns": {
                "headers": {
                    "apns-priority": "10" if high else "5",
                    "apns-expiration": str(expires),
                    "apns-collapse-id": collapse,
                }
            },
        }

    def _push(self, target: fanout.Target, message: Mapping[str, Any]) -> fanout.Outcome:
        body = json.dumps({"message": {**message, "token": target.token}}).encode()
        try:
            answer = self._post(body, self._access_token())
            if answer.status == 401:  # the token was revoked or expired early: one fresh try
                answer = self._post(body, self._access_token(refresh=True))
        except TransientChannelError as exc:
            return fanout.Outcome("retry", f"device {target.device_id}: {exc}")
        return _judge(target, answer)

    def _post(self, body: bytes, access_token: str) -> push_http.Answer:
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json; charset=utf-8",
        }
        return self._http.post(self.send_url, body, headers)

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    # -- OAuth -----------------------------------------------------------------------------

    def _access_token(self, *, refresh: bool = False) -> str:
        """A valid access token, fetched when none is cached, it is about to expire, or
        ``refresh`` is asked."""
        with self._lock:
            now = self.clock.now()
            if not refresh and self._token is not None and now < self._token[1]:
                return self._token[0]
            token, lifetime = self._fetch_token(now)
            self._token = (token, now + dt.timedelta(seconds=lifetime) - EARLY_REFRESH)
            return token

    def assertion(self, now: dt.datetime) -> str:
        """The signed JWT the service account presents to the token endpoint."""
        issued = int(now.timestamp())
        claims = {
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.token_url,
            "iat": issued,
            "exp": issued + int(ASSERTION_LIFETIME.total_seconds()),
        }
        return sign_rs256(claims, self.account.private_key, key_id=self.account.private_key_id)

    def _fetch_token(self, now: dt.datetime) -> tuple[str, int]:
        form = urllib.parse.urlencode(
            {"grant_type": GRANT_TYPE, "assertion": self.assertion(now)}
        ).encode()
        answer = self._http.post(
            self.token_url, form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        found = answer.json()
        if answer.status != 200 or not isinstance(found, dict) or not found.get("access_token"):
            described = (
                found.get("error_description") or found.get("error")
                if isinstance(found, dict)
                else None
            )
            raise TransientChannelError(
                f"the FCM token endpoint answered {answer.status}"
                + (f": {described}" if described else "")
                + answer.retry_after()
            )
        try:
            lifetime = int(found.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600
        return str(found["access_token"]), max(lifetime, 0)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _allowed_data_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in _RESERVED_DATA and not lowered.startswith(("google", "gcm"))


def _error(answer: push_http.Answer) -> tuple[set[str], str, set[str]]:
    """FCM error codes, the message, and the fields a ``BadRequest`` names."""
    found = answer.json()
    error = found.get("error") if isinstance(found, dict) else None
    if not isinstance(error, dict):
        return set(), answer.body[:200].decode("utf-8", "replace"), set()
    codes = {str(error.get("status") or "")}
    fields: set[str] = set()
    for detail in error.get("details") or ():
        if not isinstance(detail, dict):
            continue
        if detail.get("errorCode"):
            codes.add(str(detail["errorCode"]))
        for violation in detail.get("fieldViolations") or ():
            if isinstance(violation, dict) and violation.get("field"):
                fields.add(str(violation["field"]))
    return codes - {""}, str(error.get("message") or ""), fields


def _judge(target: fanout.Target, answer: push_http.Answer) -> fanout.Outcome:
    device = f"device {target.device_id}"
    if answer.status == 200:
        found = answer.json()
        name = str(found.get("name") or "") if isinstance(found, dict) else ""
        return fanout.Outcome("sent", name.rsplit("/", 1)[-1] or f"fcm-{target.device_id}")
    codes, message, fields = _error(answer)
    detail = f"{device}: FCM answered {answer.status} {'/'.join(sorted(codes))} {message}".strip()
    bad_token = "message.token" in fields or (
        answer.status == 400 and not fields and "registration token" in message.lower()
    )
    if answer.status == 404 or "UNREGISTERED" in codes or "SENDER_ID_MISMATCH" in codes:
        return fanout.Outcome("gone", detail)
    if bad_token:
        return fanout.Outcome("gone", detail)
    if answer.status in (401, 403, 429) or answer.status >= 500:
        # 401 even with a fresh token, 403 without SENDER_ID_MISMATCH: the project's setup
        # (a role, an APNs key) is wrong; the message waits while someone fixes it.
        return fanout.Outcome("retry", detail + answer.retry_after())
    return fanout.Outcome("rejected", detail)
