"""Editing a journey in the console, with forms and as YAML: each save is a new version, runs
under way stay on theirs, invalid edits save nothing and show their error on the step (or the
YAML line), and only marketers with the form's CSRF token may edit."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lealta.automations import service
from lealta.automations.tables import Run, Workflow
from lealta.contacts.tables import Contact
from lealta.storage.base import utcnow
from lealta.users.service import create_user, list_audit
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"
JOURNEY = "inactive-reactivation"
EDIT = f"/journeys/{JOURNEY}/edit"


class _Form(HTMLParser):
    """The values a browser would post from the page's first form with a ``draft``."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and name != "op" and not name.startswith("ins."):
            if a.get("type") != "checkbox" or "checked" in a:
                self.values[name] = a.get("value", "")
        elif tag == "select" and not name.startswith("ins."):
            self._select = name
        elif (
            tag == "option"
            and self._select
            and ("selected" in a or self._select not in self.values)
        ):
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n")


def _fields(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    return parser.values


def _sign_in(api: Api, role: str) -> TestClient:
    email = f"{role}@example.com"
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())
        if session.get(Workflow, JOURNEY) is None:
            service.install(session, JOURNEY, now=utcnow())
    form = api.client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token
    api.client.post(
        "/signin", data={"email": email, "password": PASSWORD, "token": token[1], "next": "/"}
    )
    return api.client


def _version(api: Api) -> int:
    with api.services.uow.transaction() as session:
        return service.get(session, JOURNEY).current_version


def test_a_marketer_changes_a_wait_and_a_new_version_is_saved(api: Api) -> None:
    client = _sign_in(api, "marketer")
    with api.services.uow.transaction() as session:
        workflow = service.set_status(session, JOURNEY, "active", now=utcnow())
        contact = Contact(attributes={}, lifecycle_stage="Inactive", created_at=utcnow())
        session.add(contact)
        session.flush()
        rules = service.definition(session, JOURNEY)
        run_id = service.enroll(session, workflow, rules, contact.id, entry_key="t", now=utcnow())
    page = client.get(EDIT)
    assert page.status_code == 200
    fields = _fields(page.text)
    assert fields["s.window.duration_amount"] == "5"
    assert fields["s.window.duration_unit"] == "d"
    fields["s.window.duration_amount"] = "7"
    fields["op"] = "save"
    saved = client.post(EDIT, data=fields, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{EDIT}?saved=2"
    assert "Saved as version 2" in client.get(saved.headers["location"]).text
    with api.services.uow.transaction() as session:
        rules = service.definition(session, JOURNEY)
        assert rules.step("window").duration == "7d"  # type: ignore[union-attr]
        assert service.definition(session, JOURNEY, 1).step("window").duration == "5d"  # type: ignore[union-attr]
        run = session.get(Run, run_id)
        assert run is not None
        assert run.version == 1  # the run under way stays on its version
        audit = list_audit(session, limit=5)
        assert audit[0].action == "journey edited"
        assert audit[0].detail == {"version": 2, "via": "form"}


def test_an_invalid_split_shows_its_error_on_the_step_and_saves_nothing(api: Api) -> None:
    client = _sign_in(api, "marketer")
    fields = _fields(client.get(EDIT).text)
    fields["op"] = "insert|after|window"
    fields["ins.window"] = "split"
    draft = client.post(EDIT, data=fields)
    assert draft.status_code == 200
    assert "Changes not saved yet" in draft.text
    fields = _fields(draft.text)
    assert fields["s.split-1.b0.percent"] == "50"
    fields["s.split-1.b1.percent"] = "40"
    fields["op"] = "save"
    answer = client.post(EDIT, data=fields, follow_redirects=False)
    assert answer.status_code == 422
    step = answer.text[answer.text.index('id="step-split-1"') :]
    assert "split percentages add up to 90, not 100" in step[: step.index("</li>")]
    assert '<a href="#step-split-1">split-1</a>' in answer.text  # the summary links to it
    assert _version(api) == 1


def _refused(api: Api, name: str, value: str) -> str:
    """The page answering a save of the journey with the field ``name`` set to ``value``,
    which must be refused."""
    client = _sign_in(api, "marketer")
    fields = _fields(client.get(EDIT).text)
    fields[name] = value
    fields["op"] = "save"
    answer = client.post(EDIT, data=fields, follow_redirects=False)
    assert answer.status_code == 422
    return answer.text


def test_a_wrong_field_is_named_by_its_label_under_it_and_in_the_summary(api: Api) -> None:
    page = _refused(api, "s.feedback-voucher.valid_days", "0")
    under = page[page.index('id="f-s--feedback-voucher--valid_days-problem"') :]
    sentence = under[under.index(">") + 1 : under.index("</p>")]
    assert sentence == "“Valid for days” must be 1 or more"  # the label the marketer sees
    summary = page[page.index('id="summary-heading"') : page.index("</section>")]
    assert f"feedback-voucher</a>: {sentence}" in summary  # no setting path before it
    assert _version(api) == 1


def test_a_marketer_repoints_a_branch_and_a_step(api: Api) -> None:
    client = _sign_in(api, "marketer")
    page = client.get(EDIT).text
    assert '<label for="f-s--interacted--else">No goes to</label>' in page
    assert '<label for="f-s--seasonal--next">Then goes to</label>' in page
    assert "window \N{EN DASH} Wait 5 days</option>" in page
    fields = _fields(page)
    assert (fields["s.interacted.else"], fields["s.seasonal.next"]) == ("last-chance", "")
    fields["s.interacted.else"] = "reminder"
    fields["s.seasonal.next"] = "interacted"  # skip the five days' wait
    fields["s.expiring.next"] = ""  # carry on to the next step in the list
    fields["op"] = "save"
    saved = client.post(EDIT, data=fields, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{EDIT}?saved=2"
    with api.services.uow.transaction() as session:
        rules = service.definition(session, JOURNEY)
        assert rules.successors("interacted") == {
            "branch:then": "partially-active",
            "branch:else": "reminder",
        }
        assert rules.successors("seasonal") == {"next": "interacted"}
        assert rules.successors("expiring") == {"next": "last-chance"}
        assert service.definition(session, JOURNEY, 1).step("interacted").else_ == "last-chance"  # type: ignore[union-attr]
    again = _fields(client.get(EDIT).text)
    assert (again["s.interacted.else"], again["s.expiring.next"]) == ("reminder", "")


def test_a_new_splits_branch_is_pointed_elsewhere_before_saving(api: Api) -> None:
    client = _sign_in(api, "marketer")
    fields = _fields(client.get(EDIT).text)
    fields["op"] = "insert|after|window"
    fields["ins.window"] = "split"
    fields = _fields(client.post(EDIT, data=fields).text)
    assert (fields["s.split-1.b0.next"], fields["s.split-1.b1.next"]) == (
        "interacted",
        "interacted",
    )
    fields["s.split-1.b1.next"] = "done"
    fields["op"] = "refresh"  # what htmx asks for when a choice changes: the outline redrawn
    draft = client.post(EDIT, data=fields)
    assert "Changes not saved yet" in draft.text
    fields = _fields(draft.text)
    assert fields["s.split-1.b1.next"] == "done"
    fields["op"] = "save"
    assert client.post(EDIT, data=fields, follow_redirects=False).status_code == 303
    with api.services.uow.transaction() as session:
        rules = service.definition(session, JOURNEY)
        assert rules.successors("split-1") == {"split:A": "interacted", "split:B": "done"}
        assert rules.successors("window") == {"next": "split-1"}


def test_a_target_that_is_no_step_shows_the_validators_error_on_its_step(api: Api) -> None:
    page = _refused(api, "s.interacted.else", "gone")
    step = page[page.index('id="step-interacted"') :]
    card = step[: step.index('class="arms"')]
    assert "else refers to unknown step &#39;gone&#39;" in card
    assert (
        'id="f-s--interacted--else" name="s.interacted.else" aria-describedby="problems-interacted"'
        in card
    )
    assert '<option value="gone" selected>gone (not a step of this journey)</option>' in card
    assert '<a href="#step-interacted">interacted</a>' in page  # the summary links to it
    assert _version(api) == 1


def test_deleting_a_step_that_ends_a_branch_says_why_it_cannot(api: Api) -> None:
    client = _sign_in(api, "marketer")
    fields = _fields(client.get(EDIT).text)
    fields["op"] = "delete|no-reaction"
    answer = client.post(EDIT, data=fields)
    assert (
        "last-chance&#39; would go on to &#39;done&#39; instead of ending the journey"
        in answer.text
    )
    fields["op"] = "delete|wait-reminder"
    answer = client.post(EDIT, data=fields)
    assert 'id="step-wait-reminder"' not in answer.text
    fields = _fields(answer.text)
    fields["op"] = "save"
    assert client.post(EDIT, data=fields, follow_redirects=False).status_code == 303
    with api.services.uow.transaction() as session:
        rules = service.definition(session, JOURNEY)
        assert rules.successors("partially-active") == {"next": "reminder"}


def test_the_yaml_saves_a_version_and_shows_an_errors_line(api: Api) -> None:
    client = _sign_in(api, "marketer")
    page = client.get(f"/journeys/{JOURNEY}/yaml")
    assert page.status_code == 200
    fields = _fields(page.text)
    text = fields["yaml"]
    assert "duration: 5d" in text
    changed = text.replace("duration: 5d", "duration: 6d")
    saved = client.post(
        f"/journeys/{JOURNEY}/yaml",
        data={"csrf": fields["csrf"], "base": fields["base"], "yaml": changed},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert _version(api) == 2
    broken = changed.replace("duration: 6d", "duration: soon")
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "soon" in x)) + 1
    answer = client.post(
        f"/journeys/{JOURNEY}/yaml", data={"csrf": fields["csrf"], "base": "2", "yaml": broken}
    )
    assert answer.status_code == 422
    assert f"Line {line}" in answer.text
    assert "invalid duration" in answer.text
    bad_yaml = client.post(
        f"/journeys/{JOURNEY}/yaml",
        data={"csrf": fields["csrf"], "base": "2", "yaml": "id: x\nsteps: [\n"},
    )
    assert bad_yaml.status_code == 422
    assert "Line 3" in bad_yaml.text
    assert _version(api) == 2


@pytest.mark.parametrize("path", [EDIT, f"/journeys/{JOURNEY}/yaml"])
def test_a_viewer_cannot_edit(api: Api, path: str) -> None:
    client = _sign_in(api, "viewer")
    assert client.get(path).status_code == 403
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert token
    assert client.post(path, data={"csrf": token[1], "yaml": "x"}).status_code == 403
    assert _version(api) == 1


def test_an_edit_without_the_csrf_token_is_refused(api: Api) -> None:
    client = _sign_in(api, "marketer")
    fields = _fields(client.get(EDIT).text)
    fields["csrf"] = "forged"
    fields["op"] = "save"
    fields["s.window.duration_amount"] = "9"
    assert client.post(EDIT, data=fields).status_code == 403
    assert _version(api) == 1
    with api.services.uow.transaction() as session:
        assert session.scalars(select(Run)).first() is None


def test_an_unknown_journey_is_a_404(api: Api) -> None:
    client = _sign_in(api, "marketer")
    assert client.get("/journeys/nope/edit").status_code == 404
