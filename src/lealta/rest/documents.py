"""Routes that take a whole document (an audience, a workflow, a rule set, the loyalty
programme) as JSON or as YAML (``Content-Type: application/yaml``): the request body as
OpenAPI describes it, and as the route reads it (text, validated by the service).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

# ``openapi_extra`` of such a route: the body is required, a JSON object or a YAML text.
JSON_OR_YAML: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def document_text(request: Request) -> str:
    """The body as text (bytes that are not UTF-8 read as U+FFFD: the parser then refuses the
    document, naming where)."""
    return (await request.body()).decode("utf-8", errors="replace")
