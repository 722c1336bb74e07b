"""The Journeys pages through HTTP: the library installs with its messages (audited), enable,
pause and end all runs with CSRF and roles, the diagram's counts, a step's people, versions
with their diff, importing a file, and trying a workflow on a contact."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lealta.automations import service
from lealta.automations.runner import advance_all
from lealta.automations.tables import Run, Workflow
from lealta.messages.tables import MessageTemplate
from lealta.storage.base import utcnow
from lealta.users.service import create_user, list_audit
from tests.factories import contacts
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"
REACTIVATION = "inactive-reactivation"


def _sign_in(api: Api, role: str, email: str | None = None) -> TestClient:
    email = email or f"{role}@example.com"
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())
    client = api.client
    client.cookies.clear()
    form = client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token
    answer = client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found[1]


def _install(client: TestClient, template: str = REACTIVATION) -> Any:
    token = _csrf(client.get("/journeys").text)
    return client.post(
        f"/journeys/library/{template}", data={"csrf": token}, follow_redirects=False
    )


def _contact(api: Api, email: str, *, stage: str = "Customer") -> str:
    with api.services.uow.transaction() as session:
        contact = contacts.person(
            session, utcnow(), email=email, attributes={"first_name": "Marta"}
        )
        contact.lifecycle_stage = stage
        return contact.id


def _enrol(api: Api, contact_id: str, workflow: str = REACTIVATION) -> None:
    with api.services.uow.transaction() as session:
        found = service.get(session, workflow)
        service.enroll(
            session,
            found,
            service.definition(session, workflow),
            contact_id,
            entry_key="test",
            now=utcnow(),
        )
    advance_all(api.services)


def test_the_library_installs_a_draft_with_its_messages_and_audits_it(api: Api) -> None:
    client = _sign_in(api, "marketer")
    page = client.get("/journeys")
    assert page.status_code == 200
    assert "Inactive customers, easy reactivation" in page.text
    assert "Starts when</strong> lifecycle stage becomes Inactive" in page.text
    answer = _install(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/journeys/{REACTIVATION}?installed=1"
    with api.services.uow.transaction() as session:
        workflow = session.get(Workflow, REACTIVATION)
        assert workflow is not None
        assert workflow.status == "draft"
        stored = set(session.scalars(select(MessageTemplate.id)))
        assert {"reactivation-feedback", "reactivation-seasonal", "offer-reminder"} <= stored
        entry = list_audit(session, action="workflow installed")[0]
        assert entry.user_email == "marketer@example.com"
        assert entry.target == f"workflow {REACTIVATION}"
    detail = client.get(f"/journeys/{REACTIVATION}?installed=1")
    assert detail.status_code == 200
    assert "Installed as a draft" in detail.text
    assert '<svg class="flow"' in detail.text
    assert f'href="/journeys/{REACTIVATION}/steps/has-history"' in detail.text
    assert "marketer@example.com" in detail.text  # the version's author


def test_a_viewer_reads_but_cannot_install_enable_pause_or_end(api: Api) -> None:
    client = _sign_in(api, "marketer", "boss@example.com")
    _install(client)
    viewer = _sign_in(api, "viewer")
    page = viewer.get(f"/journeys/{REACTIVATION}")
    assert page.status_code == 200
    assert ">Enable</button>" not in page.text
    token = _csrf(page.text)
    for path in ("enable", "pause", "end"):
        answer = viewer.post(
            f"/journeys/{REACTIVATION}/{path}", data={"csrf": token, "confirm": "0"}
        )
        assert answer.status_code == 403, path
    assert viewer.post("/journeys/library/birthday", data={"csrf": token}).status_code == 403
    with api.services.uow.transaction() as session:
        assert session.get(Workflow, REACTIVATION).status == "draft"  # type: ignore[union-attr]
        assert session.get(Workflow, "birthday") is None


def test_changes_without_the_csrf_token_are_refused(api: Api) -> None:
    client = _sign_in(api, "marketer")
    _install(client)
    assert (
        client.post(f"/journeys/{REACTIVATION}/enable", data={"csrf": "forged"}).status_code == 403
    )
    assert client.post("/journeys/library/birthday", data={}).status_code == 403
    with api.services.uow.transaction() as session:
        assert session.get(Workflow, REACTIVATION).status == "draft"  # type: ignore[union-attr]


def test_enable_pause_and_end_all_runs_with_the_typed_number(api: Api) -> None:
    client = _sign_in(api, "marketer")
    _install(client)
    token = _csrf(client.get(f"/journeys/{REACTIVATION}").text)
    answer = client.post(
        f"/journeys/{REACTIVATION}/enable", data={"csrf": token}, follow_redirects=False
    )
    assert answer.status_code == 303
    first, second = _contact(api, "a@example.com"), _contact(api, "b@example.com")
    _enrol(api, first)
    _enrol(api, second)
    page = client.get(f"/journeys/{REACTIVATION}")
    assert "Type 2 to confirm" in page.text
    assert ">Pause</button>" in page.text
    wrong = client.post(f"/journeys/{REACTIVATION}/end", data={"csrf": token, "confirm": "3"})
    assert wrong.status_code == 409
    assert "2 people are in this workflow now, not 3" in wrong.text
    answer = client.post(
        f"/journeys/{REACTIVATION}/end",
        data={"csrf": token, "confirm": "2"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with api.services.uow.transaction() as session:
        statuses = dict(
            session.execute(
                select(Run.status, func.count())
                .where(Run.workflow_id == REACTIVATION)
                .group_by(Run.status)
            ).all()
        )
        assert statuses == {"exited": 2}
        reasons = set(session.scalars(select(Run.exit_reason)))
        assert reasons == {"ended by marketer@example.com"}
        assert list_audit(session, action="workflow runs ended")[0].detail == {"runs": 2}
    client.post(f"/journeys/{REACTIVATION}/pause", data={"csrf": token})
    with api.services.uow.transaction() as session:
        assert session.get(Workflow, REACTIVATION).status == "paused"  # type: ignore[union-attr]
        actions = [e.action for e in list_audit(session)]
        assert "workflow enabled" in actions
        assert "workflow paused" in actions


def test_the_diagram_counts_and_a_step_lists_who_waits_there(api: Api) -> None:
    client = _sign_in(api, "marketer")
    _install(client)
    token = _csrf(client.get(f"/journeys/{REACTIVATION}").text)
    client.post(f"/journeys/{REACTIVATION}/enable", data={"csrf": token})
    marta = _contact(api, "marta@example.com")
    _enrol(api, marta)
    page = client.get(f"/journeys/{REACTIVATION}").text
    # has-history: no orders, so the "no" path; the run waits in "window".
    assert "no: 1" in page
    assert "1 in · 1 waiting · 0 on · 0 left" in page
    step = client.get(f"/journeys/{REACTIVATION}/steps/window")
    assert step.status_code == 200
    assert f'href="/contacts/{marta}"' in step.text
    assert "marta@example.com" in step.text
    send = client.get(f"/journeys/{REACTIVATION}/steps/seasonal").text
    assert "Its messages" in send
    people = client.get(f"/journeys/{REACTIVATION}/people").text
    assert f'href="/contacts/{marta}"' in people
    assert client.get(f"/journeys/{REACTIVATION}/steps/nope").status_code == 400


def test_an_imported_file_makes_a_new_version_and_the_diff_reads_it(api: Api) -> None:
    client = _sign_in(api, "marketer")
    _install(client)
    from lealta.automations import catalog

    text = catalog.template_text(REACTIVATION).replace("duration: 5d", "duration: 3d")
    token = _csrf(client.get("/journeys").text)
    answer = client.post(
        "/journeys/import",
        data={"csrf": token},
        files={"file": ("reactivation.yaml", text.encode(), "application/yaml")},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = client.get(f"/journeys/{REACTIVATION}").text
    assert "Wait &#39;window&#39; changed from 5 days to 3 days" in page
    assert "-  duration: 5d" in page or "duration: 5d" in page


def test_an_invalid_file_shows_its_error_with_its_place(api: Api) -> None:
    client = _sign_in(api, "marketer")
    token = _csrf(client.get("/journeys").text)
    bad = (
        "id: broken\nname: Broken\ntrigger: {type: manual}\n"
        "steps:\n  - {id: w, type: wait, duration: 5 parsecs}\n"
    )
    answer = client.post("/journeys/import", data={"csrf": token, "text": bad})
    assert answer.status_code == 400
    assert "step &#39;w&#39;" in answer.text
    unparsable = client.post("/journeys/import", data={"csrf": token, "text": "id: [unclosed"})
    assert unparsable.status_code == 400
    assert "line" in unparsable.text


def test_trying_shows_the_clicked_branch_and_renders_the_message(api: Api) -> None:
    client = _sign_in(api, "marketer")
    _install(client)
    _contact(api, "try@example.com", stage="Inactive")
    page = client.get(
        f"/journeys/{REACTIVATION}/try",
        params=[("contact", "try@example.com"), ("day", "2"), ("kind", "clicked"), ("detail", "")],
    )
    assert page.status_code == 200, page.text
    assert "Clicks the e-mail reactivation-seasonal" in page.text
    assert "Reaches &#39;partially-active&#39;" in page.text
    link = re.search(r'href="(/journeys/inactive-reactivation/try/message\?[^"]+)"', page.text)
    assert link
    body = client.get(link[1].replace("&amp;", "&"))
    assert body.status_code == 200
    assert "sandbox" in body.headers["content-security-policy"]
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
    missing = client.get(f"/journeys/{REACTIVATION}/try", params={"contact": "nobody@example.com"})
    assert missing.status_code == 400
    assert "no contact with the id or e-mail" in missing.text
