"""Request bodies are limited per route while they stream in, and keys are checked before them.

:class:`BodyLimits` is a pure ASGI middleware. For each request it finds the route, and

* answers 401/403 before reading a byte of the body when the route needs an admin key (always
  in ``Authorization``), or when a tracking route gets a key in ``Authorization`` (tracking
  may instead carry ``writeKey`` in the body, so only there is the body read first);
* answers 413 at once when ``Content-Length`` announces more than the route's limit, and
  otherwise counts the bytes as the application reads them (chunked uploads have no length),
  raising :class:`~lealta.rest.errors.BodyTooLarge` as soon as the limit is passed. The rest
  of the body is never read and the connection is closed.

Compressed tracking bodies are inflated by the tracking endpoints within the same limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lealta.rest.auth import key_from_headers, require_admin, verify
from lealta.rest.errors import ApiError, BodyTooLarge, error_body, too_large_response

_KEY_SCOPES = ("track", "admin")


@dataclass(frozen=True)
class _Rule:
    limit: int
    admin_only: bool
    key_in_header_first: bool


class BodyLimits:
    """Limit request bodies to ``default`` bytes, or ``per_path[route.path]``.

    ``key_paths`` are routes that take a key in ``Authorization`` or in the body: a header key
    is checked before the body is read.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        per_path: Mapping[str, int],
        key_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.default = default
        self.per_path = dict(per_path)
        self.key_paths = key_paths
        self._routes: _Routes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self._rule(scope)
        try:
            _check_key_first(scope, rule)
            declared = _content_length(scope)
            if declared is not None and declared > rule.limit:
                raise BodyTooLarge(rule.limit, declared)
        except ApiError as error:
            answer = error_body(error.code, str(error), error.field)
            headers = {**(error.headers or {}), "Connection": "close"}  # the body is not read
            await JSONResponse(answer, error.status, headers)(scope, receive, send)
            return
        except BodyTooLarge as error:
            await too_large_response(error)(scope, receive, send)
            return
        await self._limited(scope, receive, send, rule.limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as error:  # escaped the app's handlers (e.g. a streaming read)
            if started:
                raise
            await too_large_response(error)(scope, receive, send)

    def _rule(self, scope: Scope) -> _Rule:
        if self._routes is None:
            self._routes = _Routes(self._route_rules(scope.get("app")))
        candidates = self._routes.by_path.get(scope["path"], self._routes.with_parameters)
        for route, rule in candidates:
            if route.matches(scope)[0] is Match.FULL:
                return rule
        return _Rule(self.default, admin_only=False, key_in_header_first=False)

    def _route_rules(self, app: Any) -> list[tuple[RouteContext, _Rule]]:
        """Every API route (as mounted, with its full path) and what to check on it."""
        rules = []
        for route in iter_route_contexts(getattr(app, "routes", ())):
            original = route.original_route
            if isinstance(original, APIRoute) and route.path is not None:
                rule = _Rule(
                    self.per_path.get(route.path, self.default),
                    admin_only=_needs_admin(original.dependant),
                    key_in_header_first=route.path in self.key_paths,
                )
                rules.append((route, rule))
        return rules


class _Routes:
    """Routes without path parameters by path (a dictionary look-up on the hot tracking
    paths), the others in order."""

    def __init__(self, rules: list[tuple[RouteContext, _Rule]]) -> None:
        self.by_path: dict[str, list[tuple[RouteContext, _Rule]]] = {}
        self.with_parameters: list[tuple[RouteContext, _Rule]] = []
        for route, rule in rules:
            path = route.path or ""
            if "{" in path:
                self.with_parameters.append((route, rule))
            else:
                self.by_path.setdefault(path, []).append((route, rule))
        for same_path in self.by_path.values():  # e.g. GET and POST /v1/contacts
            same_path.extend(self.with_parameters)


def _needs_admin(dependant: Dependant) -> bool:
    return any(sub.call is require_admin or _needs_admin(sub) for sub in dependant.dependencies)


def _check_key_first(scope: Scope, rule: _Rule) -> None:
    request = Request(scope)
    if rule.admin_only:
        verify(request, key_from_headers(request, basic=False), scopes=("admin",))
    elif rule.key_in_header_first and "authorization" in request.headers:
        verify(request, key_from_headers(request), scopes=_KEY_SCOPES)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
