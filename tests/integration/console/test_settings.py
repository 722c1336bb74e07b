"""Console users managed from the settings page: create, change role, disable, reset; the
guards (yourself, the last admin); roles and CSRF; the audit page; channels' health."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from lealta.contacts.tables import Contact
from lealta.errors import Conflict
from lealta.storage.base import utcnow
from lealta.users.service import authenticate, create_user, get_user, set_role
from tests.factories import outbox
from tests.integration.conftest import Api
from tests.integration.console.test_console import PASSWORD, _csrf, _sign_in


def _user(api: Api, email: str, role: str) -> str:
    with api.services.uow.transaction() as session:
        return create_user(session, email=email, role=role, password=PASSWORD, now=utcnow()).id


@pytest.fixture
def admin(api: Api) -> TestClient:
    _user(api, "boss@example.com", "admin")
    assert _sign_in(api.client, "boss@example.com") == 303
    return api.client


def _post(client: TestClient, path: str, **form: str) -> tuple[int, str]:
    token = _csrf(client.get("/settings").text)
    answer = client.post(path, data={"csrf": token, **form}, follow_redirects=True)
    return answer.status_code, answer.text


def _shown_password(page: str) -> str:
    found = re.search(r'<code class="key">([^<]+)</code>', page)
    assert found, page
    return found[1]


def test_an_admin_creates_a_user_with_a_password_shown_once(api: Api, admin: TestClient) -> None:
    status, page = _post(admin, "/settings/users", email="New@Example.com", role="viewer")
    assert status == 200
    password = _shown_password(page)
    assert "new@example.com can now sign in as a viewer" in page
    with api.services.uow.transaction() as session:
        assert authenticate(session, email="new@example.com", password=password, now=utcnow())
    assert password not in admin.get("/settings").text  # never shown again


def test_a_typed_password_must_be_typed_twice_alike(admin: TestClient) -> None:
    status, page = _post(
        admin,
        "/settings/users",
        email="t@example.com",
        role="marketer",
        password="a long password 1",
        password_again="a long password 2",
    )
    assert status == 400
    assert "the two passwords differ" in page


def test_role_change_disable_enable_and_reset(api: Api, admin: TestClient) -> None:
    ana = _user(api, "ana@example.com", "viewer")
    status, page = _post(admin, f"/settings/users/{ana}/role", role="marketer")
    assert (status, "ana@example.com is now a marketer (was a viewer)" in page) == (200, True)
    status, page = _post(admin, f"/settings/users/{ana}/disable")
    assert "ana@example.com is disabled" in page
    with api.services.uow.transaction() as session:
        assert get_user(session, ana).disabled_at is not None
    _post(admin, f"/settings/users/{ana}/enable")
    status, page = _post(admin, f"/settings/users/{ana}/password")
    password = _shown_password(page)
    with api.services.uow.transaction() as session:
        user = get_user(session, ana)
        assert (user.role, user.disabled_at) == ("marketer", None)
        assert authenticate(session, email="ana@example.com", password=password, now=utcnow())
    audit = admin.get("/settings/audit").text
    for action in ("role changed", "user disabled", "user enabled", "password reset"):
        assert f">{action}</a>" in audit
    assert "from: viewer, to: marketer" in audit
    only = admin.get("/settings/audit", params={"action": "user disabled"}).text
    assert "user disabled" in only
    assert "role changed</a>" not in only


def test_an_admin_cannot_demote_or_disable_themselves(api: Api, admin: TestClient) -> None:
    _user(api, "other@example.com", "admin")  # not the last admin: the self-guard refuses
    with api.services.uow.transaction() as session:
        me = get_user(session, "boss@example.com").id
    status, page = _post(admin, f"/settings/users/{me}/role", role="viewer")
    assert status == 409
    assert "you cannot change the role of yourself" in page
    status, page = _post(admin, f"/settings/users/{me}/disable")
    assert status == 409
    with api.services.uow.transaction() as session:
        assert get_user(session, me).role == "admin"


def test_the_last_admin_stays_an_admin(api: Api, admin: TestClient) -> None:
    other = _user(api, "two@example.com", "admin")
    with api.services.uow.transaction() as session:
        me = get_user(session, "boss@example.com")
        me.disabled_at = utcnow()  # "two" is now the only enabled admin
    with api.services.uow.transaction() as session, pytest.raises(Conflict, match="last admin"):
        set_role(session, other, "viewer")


def test_a_marketer_gets_403_and_a_form_without_csrf_too(api: Api) -> None:
    target = _user(api, "x@example.com", "viewer")
    _user(api, "mk@example.com", "marketer")
    assert _sign_in(api.client, "mk@example.com") == 303
    token = _csrf(api.client.get("/contacts").text)
    assert api.client.get("/settings").status_code == 403
    assert api.client.get("/settings/audit").status_code == 403
    refused = api.client.post(f"/settings/users/{target}/disable", data={"csrf": token})
    assert refused.status_code == 403


def test_no_csrf_no_change(api: Api, admin: TestClient) -> None:
    target = _user(api, "x@example.com", "viewer")
    assert admin.post(f"/settings/users/{target}/disable", data={}).status_code == 403
    with api.services.uow.transaction() as session:
        assert get_user(session, target).disabled_at is None


def test_channels_say_working_failing_or_not_used(api: Api, admin: TestClient) -> None:
    now = utcnow()
    with api.services.uow.transaction() as session:
        contact = Contact(attributes={})
        session.add(contact)
        session.flush()
        rows = [("sent", None, 60), ("failed", "SMTP 550 mailbox unavailable", 10)]
        for n, (status, error, minutes_ago) in enumerate(rows):
            at = now - dt.timedelta(minutes=minutes_ago)
            outbox.sent(
                session, contact.id, at=at, status=status, error=error, channel="webhook",
                template="t", key=f"k{n}",
            )  # fmt: skip
    page = admin.get("/settings").text
    assert "failing</span>" in page
    assert "SMTP 550 mailbox unavailable" in page
    assert "switched on by setting <code>LEALTA_SMTP_HOST</code>" in page  # e-mail is off here
