"""The FastAPI application: ``create_app(services)`` wires routers, auth, errors and CORS."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from lealta import __version__
from lealta.bootstrap import Services, build
from lealta.config import Settings
from lealta.overview.summary import OverviewSummary, overview_now
from lealta.rest import errors, tracking
from lealta.rest.auth import KeyCache
from lealta.rest.limits import BodyLimits
from lealta.rest.ratelimit import RateLimiter
from lealta.tracking.worker import Processor

DESCRIPTION = """
Lealta's REST API.

* **Tracking** (`/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/alias`,
  `/v1/group`, `/v1/batch`) follows the Segment HTTP tracking spec: point a Segment or
  RudderStack SDK at this host and use a *track* key as the write key (HTTP Basic, key as user
  name). Accepted messages are durable; a repeated `messageId` is stored once, and answers
  count it under `duplicates` rather than `accepted`.
* Everything else needs an *admin* key: `Authorization: Bearer KEY`.
  Create keys with `lealta keys create --scope track|admin`.

* `GET /health` needs no key: 200 while the server runs and reaches its database, 503 when not.

Errors answer `{"error": {"code", "message", "field"}}` with a 4xx status naming the field.
Request bodies are limited per route (413 `too_large`).
"""

TAGS = [
    {"name": "tracking", "description": "Segment-compatible event collection (track keys)."},
    {"name": "contacts", "description": "Profiles, attributes, tags, lists and consent."},
    {"name": "orders", "description": "Purchases for analytics (RFM, RFMP, clustering)."},
    {"name": "rules", "description": "Lifecycle stages and lead-scoring rules, kept as data."},
    {"name": "forms", "description": "Sign-up forms and the web tracking snippet."},
    {"name": "privacy", "description": "Export and erase everything held on a person."},
    {"name": "automations", "description": "Workflows: triggers, waits, branches, actions."},
    {"name": "loyalty", "description": "Loyalty programme, tiers and each contact's benefits."},
    {"name": "system", "description": "Health and status."},
]


def create_app(services: Services | None = None) -> FastAPI:
    """The API for ``services`` (built from the process's settings when omitted)."""
    services = services or build()
    processor = Processor(services) if services.settings.process_in_server else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if processor is not None:
            processor.start()
        try:
            yield
        finally:
            _app.state.overview.close()
            if processor is not None:
                processor.stop()

    app = FastAPI(
        title="Lealta",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # served by lealta.rest.docs from the vendored Swagger UI
        redoc_url=None,
    )
    app.state.services = services
    app.state.rate_limiter = RateLimiter()
    app.state.key_cache = KeyCache()
    app.state.processor = processor
    app.state.overview = OverviewSummary(functools.partial(overview_now, services))
    errors.install(app)
    app.add_middleware(BodyLimits, **body_limits(services.settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=services.settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    _include_routers(app)
    from lealta.console.web import install as install_console

    install_console(app, services)
    return app


# Routes that take a track key in Authorization or in the body (browsers, SDKs).
_KEY_OR_WRITE_KEY = frozenset({"/v1/batch", "/v1/push/devices", "/v1/onsite/impressions"})


def body_limits(settings: Settings) -> dict[str, Any]:
    """The options of :class:`BodyLimits`: the default limit, the tracking routes' own, and
    the routes whose key may come in the body (a header key is checked before it)."""
    single = {f"/v1/{kind}": settings.max_track_message_bytes for kind in tracking.KINDS}
    return {
        "default": settings.max_body_bytes,
        "per_path": {**single, "/v1/batch": settings.max_track_batch_bytes},
        "key_paths": frozenset({*single, *_KEY_OR_WRITE_KEY}),
    }


def _include_routers(app: FastAPI) -> None:
    from lealta.rest import (
        ads,
        affinity,
        audiences,
        automations,
        clv,
        contacts,
        deliverability,
        docs,
        forms,
        jobs,
        links,
        lists,
        loyalty,
        loyalty_overrides,
        loyalty_points,
        onsite,
        orders,
        outbox,
        overview,
        privacy,
        push,
        rules,
        segments,
        simulate,
        sms,
        snippet,
        split_nps_reports,
        system,
        templates,
        tracking,
        vouchers,
    )

    app.include_router(system.router)
    app.include_router(docs.router)
    app.include_router(overview.router)
    app.include_router(tracking.router)
    app.include_router(orders.router)
    app.include_router(segments.router)
    app.include_router(jobs.router)
    app.include_router(forms.router)
    app.include_router(snippet.router)
    app.include_router(contacts.router)
    app.include_router(lists.router)
    app.include_router(privacy.router)
    app.include_router(rules.router)
    app.include_router(loyalty.router)
    app.include_router(loyalty.cards)
    app.include_router(loyalty_overrides.router)
    app.include_router(loyalty_points.router)
    app.include_router(audiences.router)
    app.include_router(affinity.router)
    app.include_router(clv.router)
    app.include_router(automations.router)
    app.include_router(simulate.router)
    app.include_router(vouchers.router)
    app.include_router(templates.router)
    app.include_router(onsite.router)
    app.include_router(outbox.router)
    app.include_router(deliverability.router)
    app.include_router(split_nps_reports.router)
    app.include_router(links.router)
    app.include_router(sms.router)
    app.include_router(push.router)
    app.include_router(ads.router)
