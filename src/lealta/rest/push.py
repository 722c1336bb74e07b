"""Push devices and the browser side of web push.

* ``POST /v1/push/devices`` registers an app's FCM token or a browser's Web Push subscription
  for the person named by ``userId`` and/or ``anonymousId``. Apps and browsers hold only the
  write-only *track* key, so it authenticates like ``/v1/track``: HTTP Basic with the key as
  user name, ``writeKey`` in the body, or an admin key as Bearer.
* ``DELETE /v1/push/devices`` forgets a device (signed out, unsubscribed).
* ``GET /v1/push/vapid-public-key``: the key browsers subscribe with (public).
* ``GET /sw.js``: the service worker that shows the notifications; ``GET /push.js``: a small
  script with ``lealtaPush.subscribe()`` / ``unsubscribe()`` for sites.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lealta.channels import devices
from lealta.channels.webpush_crypto import VapidKeys
from lealta.contacts.consent import record_consent
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.identity.service import resolve
from lealta.nesting import JsonObject
from lealta.rest.auth import authenticate, key_from_headers, services
from lealta.storage.retry import in_transaction

router = APIRouter(tags=["push"])

CONSENT_CHANNEL = {"fcm": "push", "webpush": "web_push"}
CACHE_CONTROL = "public, max-age=300"


class DeviceIn(BaseModel):
    """A device to register: whose it is, and its token or subscription."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: str | None = Field(None, alias="userId", min_length=1, max_length=320)
    anonymous_id: str | None = Field(None, alias="anonymousId", min_length=1, max_length=320)
    kind: Literal["fcm", "webpush"] = Field(
        description="`fcm`: an app's FCM registration token; `webpush`: a browser."
    )
    token: str | None = Field(None, description="The FCM registration token (`fcm`).")
    subscription: JsonObject | None = Field(
        None,
        description="The browser's `PushSubscription.toJSON()`: "
        "`{endpoint, keys: {p256dh, auth}}` (`webpush`).",
    )
    consent: bool = Field(
        False,
        description="Record consent for the channel (`push` or `web_push`): send `true` when "
        "the person has just allowed notifications.",
    )
    write_key: str | None = Field(
        None, alias="writeKey", description="The track key, if not sent as HTTP Basic user name."
    )


class DeviceGone(BaseModel):
    """A device to forget: its token, or the browser's subscription (its endpoint)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["fcm", "webpush"] | None = None
    token: str | None = Field(None, max_length=devices.MAX_TOKEN)
    subscription: JsonObject | None = None
    write_key: str | None = Field(None, alias="writeKey")


class DeviceOut(BaseModel):
    """The registered device."""

    kind: str
    token_hash: str = Field(serialization_alias="tokenHash", description="SHA-256 of the token.")


class Removed(BaseModel):
    """Whether a device was forgotten (false: it was not known)."""

    removed: bool


class VapidKey(BaseModel):
    """The application server key for ``pushManager.subscribe``."""

    public_key: str = Field(serialization_alias="publicKey")


def _caller(request: Request, write_key: str | None) -> None:
    authenticate(request, key_from_headers(request) or write_key, scopes=("track", "admin"))


@router.post("/v1/push/devices", response_model=DeviceOut, response_model_by_alias=True)
def register_device(request: Request, device: DeviceIn) -> DeviceOut:
    """Register (or refresh) a device for the person; a track key is enough."""
    _caller(request, device.write_key)
    if not (device.user_id or device.anonymous_id):
        raise InvalidInput("userId or anonymousId is required", field="userId")
    found = services(request)
    now = found.clock.now()
    proof = {
        "ip": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent"),
        "device": device.kind,
    }

    def work(session: Session) -> DeviceOut:
        contact = resolve(
            session, {"user_id": device.user_id, "anonymous_id": device.anonymous_id}, now
        )
        if contact.erased_at is not None:
            raise Conflict("this person was erased; their devices are not kept")
        row = devices.register(
            session,
            contact_id=contact.id,
            kind=device.kind,
            token=device.token,
            subscription=device.subscription,
            now=now,
        )
        if device.consent:
            channel = CONSENT_CHANNEL[device.kind]
            record_consent(
                session,
                contact.id,
                channel,
                "granted",
                source="push registration",
                at=now,
                proof=proof,
            )
        return DeviceOut(kind=row.kind, token_hash=row.token_hash)

    return in_transaction(found.uow, work)


@router.delete("/v1/push/devices", response_model=Removed)
def unregister_device(request: Request, device: Annotated[DeviceGone, Body()]) -> Removed:
    """Forget a device: the FCM ``token``, or the browser's ``subscription``."""
    _caller(request, device.write_key)
    token = device.token
    if token is None and isinstance(device.subscription, dict):
        endpoint = device.subscription.get("endpoint")
        token = endpoint if isinstance(endpoint, str) else None
    if not token:
        raise InvalidInput("token or subscription.endpoint is required", field="token")
    found = services(request)
    with found.uow.transaction() as session:
        return Removed(removed=devices.unregister(session, token=token))


@router.get("/v1/push/vapid-public-key", response_model=VapidKey, response_model_by_alias=True)
def vapid_public_key(request: Request, response: Response) -> VapidKey:
    """The VAPID public key (base64url) browsers subscribe with; no key needed."""
    settings = services(request).settings
    if not (settings.vapid_public_key or settings.vapid_private_key):
        raise NotFound("web push is not configured (LEALTA_VAPID_PRIVATE_KEY is empty)")
    key = settings.vapid_public_key or _derived_public(settings.vapid_private_key)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return VapidKey(public_key=key)


@lru_cache(maxsize=4)
def _derived_public(private_key: str) -> str:
    return VapidKeys.from_settings(private_key).public_b64


_JS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/javascript": {}}, "description": "The script."}
}


@router.get("/sw.js", response_class=Response, responses=_JS)
def service_worker(request: Request) -> Response:
    """The web push service worker: shows Lealta's notifications and opens their (tracked)
    link when clicked. Another origin loads it from its own worker file with
    ``importScripts("https://LEALTA/sw.js")``."""
    return _script(request, "sw.js")


@router.get("/push.js", response_class=Response, responses=_JS)
def push_helper(request: Request) -> Response:
    """``lealtaPush.subscribe({userId})`` and ``unsubscribe()`` for sites: registers the
    worker, asks permission, subscribes with the VAPID key and registers the device."""
    return _script(request, "push.js")


@lru_cache(maxsize=2)
def _source(name: str) -> tuple[str, str]:
    source = resources.files("lealta.channels").joinpath("browser", name).read_text("utf-8")
    return source, '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"'


def _script(request: Request, name: str) -> Response:
    source, etag = _source(name)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(source, media_type="application/javascript", headers=headers)
