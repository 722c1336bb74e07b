"""One place that turns errors into HTTP answers: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lealta.errors import Conflict, InvalidInput, LealtaError, NotFound


class ApiError(Exception):
    """An HTTP error with a machine-readable code (401, 403, 413, 429 …)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
        self.headers = headers


class BodyTooLarge(StarletteHTTPException):
    """A request body over its route's limit (413), raised while it streams in.

    An HTTP exception, so that FastAPI's body parsing lets it through to the handler below.
    """

    def __init__(self, limit: int, size: int | None = None) -> None:
        told = f"the body is {size:,} bytes" if size is not None else "the body is too large"
        super().__init__(413, f"{told}; at most {limit:,} bytes are accepted here")
        self.limit = limit


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error answer."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return {"error": body}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, str(exc), exc.field), exc.status, headers=exc.headers
        )

    @app.exception_handler(LealtaError)
    async def _lealta_error(_request: Request, exc: LealtaError) -> JSONResponse:
        if isinstance(exc, InvalidInput):
            return JSONResponse(error_body("invalid_input", str(exc), exc.field), 400)
        if isinstance(exc, NotFound):
            return JSONResponse(error_body("not_found", str(exc)), 404)
        if isinstance(exc, Conflict):
            return JSONResponse(error_body("conflict", str(exc)), 409)
        return JSONResponse(error_body("error", str(exc)), 400)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field(error.get("loc", ())), "message": error.get("msg", "invalid")}
            for error in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        return JSONResponse(
            error_body(
                "invalid_input",
                f"{first['field']}: {first['message']}",
                first["field"],
                problems=problems,
            ),
            422,
        )

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_request: Request, exc: BodyTooLarge) -> JSONResponse:
        return too_large_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


def too_large_response(exc: BodyTooLarge) -> JSONResponse:
    """The 413 answer; the connection is closed, as the rest of the body is not read."""
    return JSONResponse(
        error_body("too_large", str(exc.detail), "body"), 413, headers={"Connection": "close"}
    )


def _field(location: Any) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts)
