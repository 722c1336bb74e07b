"""The tracking endpoints of the Segment HTTP tracking spec.

Authentication is HTTP Basic with a *track* (or admin) key as user name, or ``writeKey`` in the
body (what browsers without custom headers send). Bodies may be ``application/json`` or
``text/plain`` and gzip-compressed.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from lealta.bootstrap import Services
from lealta.errors import InvalidInput
from lealta.rest.auth import authenticate, key_from_headers, services
from lealta.rest.errors import ApiError, BodyTooLarge
from lealta.tracking.intake import Checked, check_batch, enqueue, not_yet_applied
from lealta.tracking.messages import normalize
from lealta.tracking.schemas import Accepted, Batch, Message

router = APIRouter(prefix="/v1", tags=["tracking"])

KINDS = ("track", "identify", "page", "screen", "alias", "group")
"""The single-message routes, ``/v1/{kind}``."""


def _body_doc(model: type[Message] | type[Batch]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _read(request: Request, limit: int) -> dict[str, Any]:
    """The JSON object in the body; the raw body is limited by :mod:`lealta.rest.limits`,
    the inflated one here."""
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error:
            raise InvalidInput("the body is not valid gzip", field="body") from None
    if len(raw) > limit:
        raise BodyTooLarge(limit)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON ({exc})", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return body


def _caller_key(request: Request, body: dict[str, Any]) -> str | None:
    key = key_from_headers(request)
    if key is None and isinstance(body.get("writeKey"), str):
        key = body["writeKey"]
    return key


def _save(found: Services, checked: Checked, request: Request) -> int:
    """Store the good messages; how many were new (the rest repeat earlier messages)."""
    fresh = not_yet_applied(found.uow.engine, checked.good)
    stored = enqueue(found.inbox.engine, fresh, received_at=checked.received_at)
    processor = request.app.state.processor
    if processor is not None and stored:
        processor.notify()
    return stored


_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"model": Accepted, "description": "Stored (durably)."}
}
_ONE_ANSWERS = (
    orjson.dumps({"success": True, "accepted": 0, "duplicates": 1, "rejected": []}),
    orjson.dumps({"success": True, "accepted": 1, "duplicates": 0, "rejected": []}),
)


def _answer(body: bytes) -> Response:
    """The answer, serialised once by orjson (the hot path skips response validation)."""
    return Response(body, media_type="application/json")


@router.post("/batch", response_class=Response, responses=_ANSWER, openapi_extra=_body_doc(Batch))
async def batch(request: Request) -> Response:
    """Many messages at once; bad ones are refused one by one, the good ones are kept."""
    body = await _read(request, services(request).settings.max_track_batch_bytes)
    authenticate(request, _caller_key(request, body), scopes=("track", "admin"))
    found = services(request)
    checked = check_batch(body, received_at=found.clock.now())
    if checked.rejected and not checked.good:
        first = checked.rejected[0]
        raise ApiError(
            400,
            "invalid_input",
            f"every message was refused; first: {first.field}: {first.reason}",
            field=first.field,
        )
    # One short insert: cheaper inline than a hop to the thread pool.
    stored = _save(found, checked, request)
    return _answer(
        orjson.dumps(
            {
                "success": True,
                "accepted": stored,
                "duplicates": len(checked.good) - stored,
                "rejected": [
                    {
                        "index": r.index,
                        "field": r.field,
                        "reason": r.reason,
                        "messageId": r.message_id,
                    }
                    for r in checked.rejected
                ],
            }
        )
    )


def _single(kind: str) -> Any:
    async def endpoint(request: Request) -> Response:
        body = await _read(request, services(request).settings.max_track_message_bytes)
        authenticate(request, _caller_key(request, body), scopes=("track", "admin"))
        found = services(request)
        received_at = found.clock.now()
        checked = Checked(received_at=received_at)
        checked.good.append(normalize(body, received_at=received_at, kind=kind))
        return _answer(_ONE_ANSWERS[_save(found, checked, request)])

    endpoint.__name__ = kind
    endpoint.__doc__ = f"One ``{kind}`` message (Segment spec)."
    return endpoint


for _kind in KINDS:
    router.add_api_route(
        f"/{_kind}",
        _single(_kind),
        methods=["POST"],
        response_class=Response,
        responses=_ANSWER,
        openapi_extra=_body_doc(Message),
        name=_kind,
    )
