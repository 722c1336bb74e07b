"""A real browser against the real app: Debian's Chromium driven by Playwright.

The API runs under uvicorn on ``127.0.0.1`` (tracked messages applied inside the server), the
test site on ``localhost``: another origin and another site, so the snippet's cross-origin
sending is really exercised. One browser per session; each test gets a fresh context (no
cookies). Never ``playwright install``: the tests skip when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from lealta.bootstrap import Services, build
from lealta.events.tables import Event
from lealta.rest.app import create_app
from tests.factories.services import api_keys, settings_for

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")


def _serve(app: Any, host: str = "127.0.0.1") -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(app, host=host, port=0, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=15)


@dataclass
class Lealta:
    """The running API: its URL, keys and services (read the database through ``uow``)."""

    url: str
    services: Services
    admin_key: str
    track_key: str

    @property
    def admin(self) -> dict[str, str]:
        """Headers authenticating as admin."""
        return {"Authorization": f"Bearer {self.admin_key}"}

    def call(
        self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """An HTTP request to the API (JSON ``body``); returns the status and the text."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def events(self, **where: Any) -> list[Event]:
        """Applied events matching ``column=value`` filters, oldest first."""
        with self.services.uow.transaction() as session:
            query = select(Event).order_by(Event.id)
            for column, value in where.items():
                query = query.where(getattr(Event, column) == value)
            return list(session.scalars(query))


@dataclass
class Site:
    """The web site embedding the snippet, on another origin; tests add pages to it."""

    url: str
    pages: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, body: str, *, title: str = "Test page") -> str:
        """Serve ``body`` (inside a minimal HTML page) at ``path``; returns its URL."""
        self.pages[path] = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body>{body}</body></html>"
        )
        return self.url + path


@pytest.fixture(scope="session")
def lealta(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lealta]:
    """The app on a temporary SQLite database, served by uvicorn, processing in the server."""
    database = tmp_path_factory.mktemp("browser") / "lealta.db"
    url = f"sqlite:///{database}"
    services = build(settings_for(url, secret_key="browser-test-secret", process_in_server=True))
    with services.uow.transaction() as session:
        admin, track = api_keys(session, dt.datetime.now(dt.UTC))
    server, thread, port = _serve(create_app(services))
    try:
        yield Lealta(f"http://127.0.0.1:{port}", services, admin, track)
    finally:
        _stop(server, thread)
        services.uow.engine.dispose()


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The test site at ``http://localhost:PORT`` (a different site from the API's host)."""
    pages: dict[str, str] = {}

    async def page(request: Request) -> HTMLResponse:
        path = request.url.path
        if path in pages:
            return HTMLResponse(pages[path])
        return HTMLResponse(f"<!doctype html><title>Thanks</title><p>{request.method}</p>")

    app = Starlette(routes=[Route("/{path:path}", page, methods=["GET", "POST"])])
    server, thread, port = _serve(app)
    try:
        yield Site(f"http://localhost:{port}", pages)
    finally:
        _stop(server, thread)


def _real_clock_env() -> dict[str, str]:
    """The environment without libfaketime: under ``make test-future`` Chromium stays on the
    real clock (it hangs under libfaketime; pages take the server's time anyway)."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith("FAKETIME")
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium chromium-driver")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=_real_clock_env()
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies, no storage) for one test."""
    created = browser.new_context()
    created.set_default_timeout(10_000)
    yield created
    created.close()


def wait_for(check: Callable[[], T | None], *, timeout: float = 10.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy (the processor runs in the server)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(0.1)
