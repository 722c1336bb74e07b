"""``GET /t.js``: the tracker, cacheable, with the server's defaults baked in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lealta.bootstrap import Services
from lealta.rest.app import create_app
from tests.integration.conftest import Api


def test_the_tracker_is_served_as_cacheable_javascript_without_a_key(api: Api) -> None:
    answer = api.client.get("/t.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert '"respectDnt": true' in answer.text
    assert "lealta:defaults" not in answer.text
    assert "/v1/batch" in answer.text
    again = api.client.get("/t.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_the_do_not_track_default_follows_the_server_setting(api: Api) -> None:
    settings = api.services.settings.model_copy(update={"respect_do_not_track": False})
    services = Services(settings, api.services.uow, api.services.clock)
    with TestClient(create_app(services)) as client:
        assert '"respectDnt": false' in client.get("/t.js").text
