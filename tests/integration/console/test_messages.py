"""Message templates in the console through HTTP: list, edit and save (audited), validation
errors with their line, the preview for a contact with its tracked links, and test sends that
arrive at a real SMTP server and are never counted in reports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from lealta.channels.tables import OutboxMessage
from lealta.feedback.reports import message_report
from lealta.messages import service
from lealta.storage.base import utcnow
from lealta.users.service import create_user, list_audit
from tests.integration.channels_email.conftest import Mailroom, smtp_server
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"


@dataclass
class Console:
    api: Api
    contact_id: str
    csrf: str


def _sign_in(api: Api, email: str, role: str) -> str:
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())
    form = api.client.get("/signin").text
    token = re.search(r'name="token" value="([^"]+)"', form)
    assert token
    api.client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/"},
        follow_redirects=False,
    )
    found = re.search(r'name="csrf" value="([^"]+)"', api.client.get("/messages").text)
    assert found
    return found[1]


def _console(api: Api, role: str) -> Console:
    api.client.post(
        "/v1/identify",
        json={"userId": "u1", "traits": {"email": "marta@example.com", "first_name": "Marta"}},
        auth=api.track_auth,
    )
    api.drain()
    found = api.client.get("/v1/contacts?email=marta@example.com", headers=api.admin).json()
    with api.services.uow.transaction() as session:
        service.install(session, ["win-back-1", "welcome"], now=utcnow())
    csrf = _sign_in(api, f"{role}@example.com", role)
    return Console(api, found["contacts"][0]["id"], csrf)


@pytest.fixture
def marketer(api: Api) -> Console:
    return _console(api, "marketer")


def _form(page: str) -> dict[str, str]:
    """The editor's fields as the browser would post them (text areas and inputs)."""
    fields: dict[str, str] = {}
    areas = re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S)
    for name, value in areas:
        fields[name] = _unescape(value)
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value and 'type="radio"' not in tag and 'type="checkbox"' not in tag:
            fields[name[1]] = _unescape(value[1])
    for name, chosen in re.findall(
        r'<select[^>]*name="(format:[^"]+)"[^>]*>.*?<option value="([^"]+)" selected', page, re.S
    ):
        fields[name] = chosen
    fields.pop("new_language", None)
    return fields


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_list_shows_templates_with_channel_languages_and_search(marketer: Console) -> None:
    page = marketer.api.client.get("/messages").text
    assert 'href="/messages/win-back-1"' in page
    assert "E-mail" in page
    assert '<span class="badge">it</span>' in page
    assert "no journey" in page
    found = marketer.api.client.get("/messages?q=welcome").text
    assert 'href="/messages/welcome"' in found
    assert 'href="/messages/win-back-1"' not in found


def test_a_marketer_edits_and_saves_a_subject_and_the_audit_log_says_so(
    marketer: Console,
) -> None:
    client = marketer.api.client
    page = client.get("/messages/win-back-1").text
    fields = _form(page)
    assert fields["part:default:subject"].startswith("{{ contact.first_name")
    fields["part:default:subject"] = "{{ contact.first_name }}, come back for spring"
    answer = client.post("/messages/win-back-1", data=fields, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    with marketer.api.services.uow.transaction() as session:
        stored = service.get(session, "win-back-1")
        assert stored.body["subject"] == "{{ contact.first_name }}, come back for spring"
        assert stored.version == 2
        assert "it" in stored.body["variants"]  # the other language kept
        assert "mjml" in stored.body
        entries = list_audit(session)
    assert entries[0].action == "template changed"
    assert entries[0].user_email == "marketer@example.com"
    assert entries[0].target == "template win-back-1"
    assert "Saved." in client.get(answer.headers["location"]).text
    rest = client.get("/v1/templates/win-back-1", headers=marketer.api.admin).json()
    assert rest["body"]["subject"] == "{{ contact.first_name }}, come back for spring"


def test_a_validation_error_is_shown_with_its_line_beside_the_field(marketer: Console) -> None:
    client = marketer.api.client
    fields = _form(client.get("/messages/win-back-1").text)
    fields["part:default:text"] = "Hello\n\n{{ contcat.first_name }}\n"
    answer = client.post("/messages/win-back-1", data=fields)
    assert answer.status_code == 400
    assert "Not saved: 1 problem to fix." in answer.text
    link = 'href="#f-default-text" data-line="3" class="goto">text line 3</a>'
    assert link in answer.text
    assert "unknown variable &#39;contcat&#39;: did you mean contact?" in answer.text
    assert 'id="f-default-text-problem1">Line 3:' in answer.text
    assert "contcat.first_name" in answer.text  # what was typed stays
    with marketer.api.services.uow.transaction() as session:
        assert service.get(session, "win-back-1").version == 1


def test_the_preview_is_rendered_for_a_contact_with_links_as_they_will_be_tracked(
    marketer: Console,
) -> None:
    client = marketer.api.client
    fields = _form(client.get("/messages/win-back-1").text)
    fields["contact"] = marketer.contact_id
    fields["part:default:subject"] = "{{ contact.first_name }}, a draft subject"
    details = client.post("/messages/win-back-1/preview", data=fields)
    assert details.status_code == 200
    assert "<strong>Marta, a draft subject</strong>" in details.text
    assert "Hello Marta," in details.text  # the text part
    base = marketer.api.services.settings.base_url
    assert f"{base}/l/c/" in details.text
    assert "utm_source=lealta&amp;utm_medium=email&amp;utm_campaign=win-back-1" in details.text
    assert ">unsubscribe</span>" in details.text
    assert f"{base}/l/o/" in details.text  # the open pixel
    assert "List-Unsubscribe" not in details.text or "&lt;" in details.text
    frame = client.post("/messages/win-back-1/frame", data=fields)
    assert "Marta" in frame.text
    policy = frame.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    italian = client.post("/messages/win-back-1/preview", data={**fields, "language": "it"})
    assert "Ciao Marta," in italian.text


def test_a_new_template_is_created_and_a_taken_name_refused(marketer: Console) -> None:
    client = marketer.api.client
    page = client.get("/messages/new?channel=sms").text
    assert 'name="part:default:text"' in page
    data = {"csrf": marketer.csrf, "id": "spring-sms", "channel": "sms", "action": "save"}
    data["part:default:text"] = "Hi {{ contact.first_name }}, spring sale today"
    answer = client.post("/messages/new", data=data, follow_redirects=False)
    assert answer.status_code == 303
    again = client.post("/messages/new", data=data)
    assert again.status_code == 400
    assert "there is already a template called spring-sms" in again.text


def test_a_language_is_added_to_the_draft_and_kept_when_saved(marketer: Console) -> None:
    client = marketer.api.client
    fields = _form(client.get("/messages/welcome").text)
    added = client.post("/messages/welcome", data={**fields, "action": "add", "new_language": "de"})
    assert 'id="f-de-subject"' in added.text
    fields = _form(added.text)
    fields["part:de:subject"] = "Willkommen, {{ contact.first_name }}"
    assert client.post("/messages/welcome", data=fields, follow_redirects=False).status_code == 303
    with marketer.api.services.uow.transaction() as session:
        assert service.get(session, "welcome").body["variants"]["de"] == {
            "subject": "Willkommen, {{ contact.first_name }}"
        }


def test_a_viewer_reads_but_cannot_save_or_send(api: Api) -> None:
    viewer = _console(api, "viewer")
    page = api.client.get("/messages/win-back-1")
    assert page.status_code == 200
    assert ">Save</button>" not in page.text
    fields = _form(page.text)
    assert api.client.post("/messages/win-back-1", data=fields).status_code == 403
    sent = api.client.post("/messages/win-back-1/test-send", data={**fields, "to": "a@b.example"})
    assert sent.status_code == 403
    assert api.client.post("/messages/win-back-1/preview", data=fields).status_code == 200
    assert viewer.csrf


def test_a_change_without_the_csrf_token_is_refused(marketer: Console) -> None:
    client = marketer.api.client
    fields = _form(client.get("/messages/win-back-1").text)
    fields["csrf"] = "forged"
    assert client.post("/messages/win-back-1", data=fields).status_code == 403
    assert client.post("/messages/win-back-1/preview", data=fields).status_code == 403


@pytest.fixture
def mailroom() -> Iterator[tuple[Mailroom, int]]:
    handler = Mailroom()
    with smtp_server(handler) as port:
        yield handler, port


def _with_smtp(api: Api, port: int) -> None:
    api.services.settings = api.services.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "email_from": "Shop <news@shop.example>",
        }
    )


def test_a_test_send_arrives_marked_as_a_test_and_is_never_counted(
    marketer: Console, mailroom: tuple[Mailroom, int]
) -> None:
    handler, port = mailroom
    _with_smtp(marketer.api, port)
    client = marketer.api.client
    fields = _form(client.get("/messages/win-back-1").text)
    fields.update(contact=marketer.contact_id, to="me@shop.example")
    fields["part:default:subject"] = "{{ contact.first_name }}, the draft"
    answer = client.post("/messages/win-back-1/test-send", data=fields)
    assert answer.status_code == 200, answer.text
    assert "Test sent to <strong>me@shop.example</strong>" in answer.text
    assert handler.count() == 1
    message = handler.received[0].message
    assert handler.received[0].rcpt_tos == ["me@shop.example"]
    assert message["Subject"] == "[Test] Marta, the draft"
    assert message["X-Lealta-Test"] == "yes"
    html = message.get_body(("html",)).get_content()
    assert "/l/c/" in html  # tracked as a real one, recording nothing
    assert "/l/o/" in html
    with marketer.api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert message_report(session, by="template") == []
        assert list_audit(session)[0].action == "template test sent"
    followed = client.get(
        re.findall(r'href="(http[^"]*/l/c/[^"]+)"', html)[0].replace(
            marketer.api.services.settings.base_url, ""
        ),
        follow_redirects=False,
    )
    assert followed.status_code == 302  # the link works, and records nothing
    with marketer.api.services.uow.transaction() as session:
        assert message_report(session, by="template") == []


def test_a_test_send_without_an_email_channel_says_what_to_set(marketer: Console) -> None:
    client = marketer.api.client
    fields = _form(client.get("/messages/win-back-1").text)
    answer = client.post("/messages/win-back-1/test-send", data={**fields, "to": "me@shop.example"})
    assert answer.status_code == 400
    assert "no e-mail channel is configured" in answer.text
    assert "LEALTA_SMTP_HOST" in answer.text
    bad = client.post("/messages/win-back-1/test-send", data={**fields, "to": "not an address"})
    assert "is not an e-mail address" in bad.text


def test_the_rest_api_sends_a_test_too(api: Api, mailroom: tuple[Mailroom, int]) -> None:
    handler, port = mailroom
    _with_smtp(api, port)
    with api.services.uow.transaction() as session:
        service.install(session, ["welcome"], now=utcnow())
    answer = api.client.post(
        "/v1/templates/welcome/test-send", json={"to": "qa@shop.example"}, headers=api.admin
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["subject"].startswith("[Test] ")
    assert handler.received[0].message["X-Lealta-Test"] == "yes"
    refused = api.client.post(
        "/v1/templates/welcome/test-send", json={"to": "nope"}, headers=api.admin
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "to"
