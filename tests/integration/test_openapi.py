"""The API documents itself: /docs and an OpenAPI schema listing every endpoint."""

from __future__ import annotations

from tests.integration.conftest import Api

EXPECTED = [
    "/v1/batch",
    "/v1/track",
    "/v1/identify",
    "/v1/page",
    "/v1/screen",
    "/v1/alias",
    "/v1/group",
    "/v1/contacts",
    "/v1/contacts/{contact_id}/timeline",
    "/v1/contacts/{contact_id}/export",
    "/v1/orders",
    "/v1/forms/{slug}",
    "/v1/rules/{name}",
    "/t.js",
    "/health",
]


def test_docs_and_schema(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    schema = api.client.get("/openapi.json").json()
    for path in EXPECTED:
        assert path in schema["paths"], path
    batch = schema["paths"]["/v1/batch"]["post"]
    assert "Accepted" in str(batch["responses"]["200"])
    assert "batch" in str(batch["requestBody"])


def test_health_is_documented(api: Api) -> None:
    health = api.client.get("/openapi.json").json()["paths"]["/health"]["get"]
    assert "needs no key" in health["description"]
    assert "503" in health["responses"]
    assert api.client.get("/health").json()["status"] == "ok"
