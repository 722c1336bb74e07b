"""A marketer's whole campaign in Chromium, against a real ``lealta serve`` (its own worker
process) sending through a real SMTP server (aiosmtpd):

install "Inactive customers, easy reactivation" from the library, change its first e-mail's
subject in the message editor, try the journey on a contact who clicks on day 2, enable it;
then the shop's own system marks the contact inactive through the API, the e-mail arrives at
the SMTP server with the new subject, and the step's count in the diagram turns to 1.
Screenshots go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lealta.automations import catalog
from lealta.bootstrap import build
from lealta.config import Settings
from lealta.keys.service import create_key
from lealta.users.service import create_user
from tests.integration.channels_email.conftest import Mailroom, free_port, smtp_server

PASSWORD = "a long console password"
SECRET = "campaign-test-secret-campaign-test-secret"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
DESKTOP = {"width": 1280, "height": 900}
REACTIVATION = "inactive-reactivation"
FIRST_EMAIL = "reactivation-seasonal"  # no order history: the seasonal branch
FIRST_STEP = "seasonal"  # the step that sends it
NEW_SUBJECT = "{{ contact.first_name }}, we kept a spring offer for you"
CUSTOMER = "carla@shop.example"
VIEWER = "onlooker@example.com"
LAPSED = "Customer Lapsed"  # the shop's own signal, mapped to Inactive by a lifecycle rule


@dataclass
class Server:
    """``lealta serve`` in a child process: its URL, keys, console user and mail room."""

    url: str
    admin_key: str
    track_key: str
    marketer: str
    mailroom: Mailroom
    log: Path

    def call(
        self, method: str, path: str, body: Any = None, *, key: str | None = None
    ) -> tuple[int, Any]:
        """A JSON request with the admin key (or ``key``); the status and the decoded body."""
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key or self.admin_key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read().decode()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lealta serve stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"lealta serve did not answer:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh SQLite store with a marketer and keys, served by ``lealta serve`` whose worker
    delivers e-mail to an aiosmtpd server in this process."""
    folder = tmp_path_factory.mktemp("campaign")
    database = f"sqlite:///{folder / 'lealta.db'}"
    room = Mailroom()
    with smtp_server(room) as smtp_port:
        port = free_port()
        environment = {
            **os.environ,
            "LEALTA_DATABASE_URL": database,
            "LEALTA_ENVIRONMENT": "test",
            "LEALTA_SECRET_KEY": SECRET,
            "LEALTA_SMTP_HOST": "127.0.0.1",
            "LEALTA_SMTP_PORT": str(smtp_port),
            "LEALTA_EMAIL_FROM": "Shop <news@shop.example>",
            "LEALTA_QUIET_HOURS": "",  # the test may run at any hour
            "LEALTA_CONFIG_FILE": str(folder / "none.toml"),
        }
        settings = Settings(
            _env_file=None, database_url=database, environment="test", secret_key=SECRET
        )
        services = build(settings)  # migrates the store
        now = dt.datetime.now(dt.UTC)
        marketer = "campaigner@example.com"
        with services.uow.transaction() as session:
            admin = create_key(session, scope="admin", name="campaign test", now=now).key
            track = create_key(session, scope="track", name="shop", now=now).key
            create_user(session, email=marketer, role="marketer", password=PASSWORD, now=now)
            create_user(session, email=VIEWER, role="viewer", password=PASSWORD, now=now)
        services.uow.engine.dispose()
        log = folder / "serve.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "lealta", "serve", "--port", str(port)],
                env=environment,
                cwd=folder,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process, log)
            yield Server(url, admin, track, marketer, room, log)
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _wait_for(check: Any, what: str, log: Path, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout} s; server log:\n{log.read_text()}")


def _customer(server: Server) -> str:
    """Carla, known by e-mail, who agreed to receive it; her contact id."""
    status, _ = server.call(
        "POST",
        "/v1/identify",
        {"userId": "carla", "traits": {"email": CUSTOMER, "first_name": "Carla"}},
        key=server.track_key,
    )
    assert status == 200

    def found() -> str | None:
        status, answer = server.call("GET", "/v1/contacts?user_id=carla")
        contacts = answer["contacts"] if status == 200 else []
        return contacts[0]["id"] if contacts else None

    contact_id: str = _wait_for(found, "Carla's profile", server.log)
    status, _ = server.call(
        "PUT", f"/v1/contacts/{contact_id}/consent/email", {"status": "granted"}
    )
    assert status == 200
    return contact_id


def _mark_lapsed_as_inactive(server: Server) -> None:
    """The shop's own "Customer Lapsed" event moves a person to Inactive (first rule)."""
    status, current = server.call("GET", "/v1/rules/lifecycle")
    assert status == 200
    model = current["model"]
    model["rules"].insert(0, {"id": "lapsed", "to": "Inactive", "event": LAPSED})
    status, answer = server.call("PUT", "/v1/rules/lifecycle", model)
    assert status == 200, answer


@pytest.mark.browser
def test_edit_try_enable_and_the_email_arrives_with_the_new_subject(
    browser: Any, server: Server
) -> None:
    contact_id = _customer(server)
    _mark_lapsed_as_inactive(server)
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(server.url + "/")
        page.get_by_label("Email").fill(server.marketer)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Overview").wait_for()

        # the library: "use this" installs the journey as a draft with its e-mails
        name = catalog.load_template(REACTIVATION).name
        page.get_by_role("link", name="Journeys", exact=True).click()
        page.get_by_role("heading", name="Library").wait_for()
        _shot(page, "journeys")
        page.get_by_role("button", name=f"Use this: {name}").click()
        page.get_by_text("Installed as a draft").wait_for()
        flow = page.locator("svg.flow")
        drawn = flow.locator("a.step").evaluate_all("links => links.map(a => a.dataset.step)")
        assert set(drawn) == {s.id for s in catalog.load_template(REACTIVATION).steps}
        assert "Starts when lifecycle stage becomes Inactive" in (flow.text_content() or "")
        _shot(page, "journey")

        # the first e-mail's subject, changed in the message editor
        page.goto(f"{server.url}/messages/{FIRST_EMAIL}")
        page.get_by_role("heading", name=FIRST_EMAIL).wait_for()
        page.wait_for_load_state("load")
        page.get_by_label("Subject").first.fill(NEW_SUBJECT)
        page.locator("#preview-details").get_by_text(
            "Carla, we kept a spring offer for you"
        ).wait_for()  # previewed for a real contact
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("Saved. Messages sent from now on use this version.").wait_for()

        # try it on Carla: she clicks the e-mail on day 2
        page.goto(f"{server.url}/journeys/{REACTIVATION}")
        page.get_by_role("link", name="Try it on a contact").click()
        page.get_by_label("Contact: e-mail address or id").fill(CUSTOMER)
        page.get_by_label("New event: day").fill("2")
        page.get_by_label("New event: what they do").select_option("clicked")
        page.get_by_role("button", name="Add this event").click()
        page.get_by_label("Event 1: day").wait_for()
        page.get_by_role("button", name="Simulate").click()
        days = page.locator("ol.days")
        days.wait_for()
        text = days.inner_text()
        assert f"Clicks the e-mail {FIRST_EMAIL}" in text
        assert "Reaches 'partially-active'" in text
        assert "last-chance" not in text
        assert "Carla, we kept a spring offer for you" in text  # the edited subject, rendered
        _shot(page, "journey-try")

        # switch it on
        page.get_by_role("link", name=name).click()
        page.get_by_role("button", name="Enable").click()
        page.get_by_text("Enabled: people who match the trigger now enter it.").wait_for()
        assert server.mailroom.count() == 0  # nobody is Inactive yet

        # the shop marks Carla as lapsed, through the API
        lapsed = {"userId": "carla", "event": LAPSED, "properties": {"reason": "180 quiet days"}}
        status, _ = server.call("POST", "/v1/track", lapsed, key=server.track_key)
        assert status == 200
        _wait_for(server.mailroom.count, "the e-mail's arrival at the SMTP server", server.log)
        [received] = server.mailroom.received
        message = received.message
        assert received.rcpt_tos == [CUSTOMER]
        assert message["Subject"] == "Carla, we kept a spring offer for you"

        # the diagram counts her on the e-mail's step
        def counted() -> bool:
            page.goto(f"{server.url}/journeys/{REACTIVATION}")
            box = page.locator(f"a.step[data-step='{FIRST_STEP}']")
            return "1 in ·" in (box.text_content() or "")

        _wait_for(counted, "the step's count of 1", server.log, timeout=20)
        waiting = page.locator("a.step[data-step='window']").text_content() or ""
        assert "1 in · 1 waiting" in waiting
        _shot(page, "journey-live")
        page.locator("a.step[data-step='window']").click()
        page.get_by_role("heading", name="Waiting here now").wait_for()
        assert page.get_by_role("link", name=CUSTOMER).count() or contact_id in page.content()
        _shot(page, "journey-step")
        assert errors == []
    finally:
        context.close()
    _a_viewer_reads_the_journey_but_cannot_change_it(browser, server)


def _a_viewer_reads_the_journey_but_cannot_change_it(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/journeys/{REACTIVATION}")
        page.get_by_label("Email").fill(VIEWER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator("svg.flow").wait_for()
        for action in ("Edit", "Pause", "Enable"):
            assert page.get_by_role("link", name=action, exact=True).count() == 0
            assert page.get_by_role("button", name=action, exact=True).count() == 0
        answer = page.goto(f"{server.url}/journeys/{REACTIVATION}/edit")
        assert answer is not None
        assert answer.status == 403
        _shot(page, "journey-edit-viewer")
        # a forged form post with the viewer's own session and token is refused too
        page.goto(f"{server.url}/journeys/{REACTIVATION}")
        token = page.locator("input[name=csrf]").first.get_attribute("value") or ""
        posted = page.request.post(
            f"{server.url}/journeys/{REACTIVATION}/yaml", form={"csrf": token, "yaml": "id: x"}
        )
        assert posted.status == 403
    finally:
        context.close()
