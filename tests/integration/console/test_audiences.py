"""The console's Audiences pages through HTTP on SQLite and PostgreSQL: a bad rule is shown on
its own field and rule and nothing is saved, the preview counts what the service counts, a
save creates a version and is listed, 404s for audiences that do not exist, a viewer may
count but not save, the profile lists the person's audiences."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from lealta.audiences import service
from lealta.audiences.membership import refresh
from lealta.users.service import create_user, list_audit
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"


def _sign_in(api: Api, email: str, role: str = "marketer") -> str:
    with api.services.uow.transaction() as session:
        create_user(
            session, email=email, role=role, password=PASSWORD, now=api.services.clock.now()
        )
    form = api.client.get("/signin?next=/audiences")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = api.client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/audiences"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', api.client.get("/audiences/new").text)
    assert csrf
    return csrf[1]


def _people(api: Api) -> None:
    """Three people: two tagged vip, one of them in Madrid."""
    batch = [
        {
            "type": "identify",
            "userId": "ana",
            "traits": {"email": "ana@example.com", "city": "Madrid"},
        },
        {
            "type": "identify",
            "userId": "ben",
            "traits": {"email": "ben@example.com", "city": "Lyon"},
        },
        {
            "type": "identify",
            "userId": "cy",
            "traits": {"email": "cy@example.com", "city": "Madrid"},
        },
    ]
    answer = api.client.post("/v1/batch", json={"batch": batch}, auth=api.track_auth)
    assert answer.status_code == 200, answer.text
    api.drain()
    for who in ("ana", "ben"):
        contact = api.client.get(
            "/v1/contacts", params={"email": f"{who}@example.com"}, headers=api.admin
        )
        contact_id = contact.json()["contacts"][0]["id"]
        tagged = api.client.put(f"/v1/contacts/{contact_id}/tags/vip", headers=api.admin)
        assert tagged.status_code in (200, 201), tagged.text


def _form(csrf: str, **fields: str) -> dict[str, Any]:
    return {"csrf": csrf, "draft": "{}", **fields}


TWO_RULES = {
    "c.kind": "all",
    "c.0.kind": "tag",
    "c.0.tag": "vip",
    "c.0.present~": "1",
    "c.0.present": "1",
    "c.1.kind": "attribute",
    "c.1.name": "city",
    "c.1.op": "equals",
    "c.1.value": "Madrid",
}


def _draft(rules: dict[str, str]) -> str:
    """The draft a builder holds for ``rules`` (an all of two conditions)."""
    import json

    return json.dumps(
        {
            "name": "",
            "condition": {
                "kind": "all",
                "conditions": [
                    {"kind": "tag", "tag": "vip"},
                    {"kind": "attribute", "name": "city", "op": "equals", "value": "x"},
                ],
            },
        }
    )


def _names(page: str) -> list[str]:
    return sorted(re.findall(r'<a href="/contacts/[0-9a-f]+">([a-z]+)@example.com</a>', page))


def test_each_figure_of_an_unsaved_draft_opens_its_people(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lealta.console import audiences_page

    _people(api)
    csrf = _sign_in(api, "vic@example.com", role="viewer")  # reading is enough
    data = {**_form(csrf, name=""), "draft": _draft(TWO_RULES), **TWO_RULES}
    exact = api.client.post("/audiences/preview/exact", data=data).text
    assert 'formaction="/audiences/preview/people"' in exact
    assert re.search(r'name="step" value="0"[^>]*>2</button>', exact)  # the funnel's first line
    everyone = api.client.post("/audiences/preview/people", data=data)
    assert everyone.status_code == 200
    assert _names(everyone.text) == ["ana"]  # vip and in Madrid
    assert "People these rules select" in everyone.text
    first = api.client.post("/audiences/preview/people", data={**data, "step": "0"}).text
    assert _names(first) == ["ana", "ben"]  # vip only
    assert "People left after rule 1" in first
    # a page at a time: the next page posts the draft again, with the last id seen
    monkeypatch.setattr(audiences_page, "MEMBERS_PAGE", 1)
    page_one = api.client.post("/audiences/preview/people", data={**data, "step": "0"}).text
    after = re.search(r'name="after" value="([0-9a-f]+)"', page_one)
    draft = re.search(r'name="draft" value="([^"]+)"', page_one)
    assert after
    assert draft
    assert len(_names(page_one)) == 1
    page_two = api.client.post(
        "/audiences/preview/people",
        data={"csrf": csrf, "draft": html.unescape(draft[1]), "step": "0", "after": after[1]},
    ).text
    assert sorted(_names(page_one) + _names(page_two)) == ["ana", "ben"]
    assert 'name="after"' not in page_two  # the last page
    refused = api.client.post("/audiences/preview/people", data={**data, "csrf": "forged"})
    assert refused.status_code == 403


def test_a_bad_rule_is_shown_on_its_field_and_nothing_is_saved(api: Api) -> None:
    csrf = _sign_in(api, "mia@example.com")
    rules = {**TWO_RULES, "c.1.kind": "score", "c.1.gte": "9", "c.1.lte": "2"}
    answer = api.client.post(
        "/audiences/new",
        data={**_form(csrf, name="Broken", op="save"), "draft": _draft(rules), **rules},
    )
    assert answer.status_code == 422
    rule = re.search(
        r'<fieldset class="condition rule has-problem" id="rule-f-c--1--">(.*?)</fieldset>',
        answer.text,
        re.S,
    )
    assert rule, answer.text
    assert "“At least” 9 is above “At most” 2" in rule[1]  # the fields' labels, not gte/lte
    assert 'id="rule-f-c--0--"' in answer.text
    assert 'rule has-problem" id="rule-f-c--0--"' not in answer.text
    assert "1 thing to fix before saving" in answer.text
    assert '<a href="#rule-f-c--1--">Rule 2</a>: “At least” 9 is above “At most” 2' in answer.text
    with api.services.uow.transaction() as session:
        assert service.list_(session) == []


def test_the_preview_counts_and_a_save_is_listed(api: Api) -> None:
    _people(api)
    csrf = _sign_in(api, "mia@example.com")
    data = {**_form(csrf, name="Madrid VIPs"), "draft": _draft(TWO_RULES), **TWO_RULES}
    estimate = api.client.post("/audiences/preview", data=data)
    assert estimate.status_code == 200
    assert 'data-count="1" data-exact="true"' in estimate.text, estimate.text
    exact = api.client.post("/audiences/preview/exact", data=data)
    assert re.search(r'id="exact-count"><button[^>]*>1</button>', exact.text)
    steps = re.findall(r'<span class="step-left"><strong><button[^>]*>(\d+)<', exact.text)
    assert steps == ["2", "1"]  # vip: ana and ben; and in Madrid: ana
    saved = api.client.post("/audiences/new", data={**data, "op": "save"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    assert re.fullmatch(r"/audiences/\d+\?saved=1", location)
    with api.services.uow.transaction() as session:
        audience = service.get(session, "Madrid VIPs")
        refresh(session, audience, now=api.services.clock.now())
        audience_id = audience.id
    listed = api.client.get("/audiences")
    assert "Madrid VIPs" in listed.text
    assert re.search(rf'href="/audiences/{audience_id}/members">1</a>', listed.text)
    why = api.client.get(f"/audiences/{audience_id}", params={"who": "ben@example.com"})
    assert why.status_code == 200
    assert "is <strong>out</strong>" in why.text
    assert "city equals &#39;Madrid&#39;" in why.text
    profile_id = re.search(
        r'<a href="/contacts/([0-9a-f]+)">ana',
        api.client.get(f"/audiences/{audience_id}/members").text,
    )
    assert profile_id
    profile = api.client.get(f"/contacts/{profile_id[1]}")
    assert f'href="/audiences/{audience_id}?who={profile_id[1]}#why"' in profile.text
    with api.services.uow.transaction() as session:
        assert [e.action for e in list_audit(session)][:1] == ["audience saved"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_missing_audiences_answer_404(api: Api) -> None:
    _sign_in(api, "mia@example.com")
    assert api.client.get("/audiences/999").status_code == 404
    assert api.client.get("/audiences/999/members").status_code == 404
    assert api.client.get("/audiences/abc").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_viewer_counts_but_cannot_save(api: Api) -> None:
    csrf = _sign_in(api, "val@example.com", role="viewer")
    data = {**_form(csrf, name="Viewer's"), "draft": _draft(TWO_RULES), **TWO_RULES}
    assert api.client.post("/audiences/preview", data=data).status_code == 200
    assert api.client.post("/audiences/new", data={**data, "op": "save"}).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refresh_now_queues_a_job_the_page_follows(api: Api) -> None:
    with api.services.uow.transaction() as session:
        definition = {"name": "Tagged", "condition": {"kind": "tag", "tag": "vip"}}
        audience_id = service.save(session, definition, now=api.services.clock.now()).audience.id
    viewer_csrf = _sign_in(api, "val@example.com", role="viewer")
    refused = api.client.post(f"/audiences/{audience_id}/refresh", data={"csrf": viewer_csrf})
    assert refused.status_code == 403
    api.client.cookies.clear()  # signed out
    csrf = _sign_in(api, "mia@example.com")
    answer = api.client.post(
        f"/audiences/{audience_id}/refresh", data={"csrf": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    job_id = re.fullmatch(
        rf"/audiences/{audience_id}\?job=([\w-]+)#refresh", answer.headers["location"]
    )
    assert job_id, answer.headers["location"]
    shown = api.client.get(f"/audiences/{audience_id}", params={"job": job_id[1]})
    assert f'hx-get="/audiences/{audience_id}/jobs/{job_id[1]}"' in shown.text
    assert api.client.get(f"/audiences/{audience_id}/jobs/nope").status_code == 404
    assert api.client.post("/audiences/999/refresh", data={"csrf": csrf}).status_code == 404
    assert (
        api.client.post("/audiences/999", data={"csrf": csrf, "op": "refresh"}).status_code == 404
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_list_shows_the_change_over_30_days_from_stored_sizes(api: Api) -> None:
    import datetime as dt

    from lealta.audiences.tables import AudienceSize

    now = api.services.clock.now()
    today = now.date()
    with api.services.uow.transaction() as session:
        definition = {"name": "Growing", "condition": {"kind": "tag", "tag": "vip"}}
        audience = service.save(session, definition, now=now).audience
        audience.size = 8
        for back, size in ((40, 1), (12, 5), (3, 6), (0, 8)):
            day = today - dt.timedelta(days=back)
            session.add(AudienceSize(audience_id=audience.id, day=day, size=size))
        flat = service.save(
            session, {"name": "Flat", "condition": {"kind": "tag", "tag": "a"}}, now=now
        )
        flat.audience.size = 2
        session.add(AudienceSize(audience_id=flat.audience.id, day=today, size=2))
    _sign_in(api, "mia@example.com")
    page = api.client.get("/audiences").text
    growing = page[page.index(">Growing<") :].split("</tr>")[0]
    assert '<span class="change up">+3</span>' in growing  # 5, 12 days ago, the oldest in 30
    assert f"since {(today - dt.timedelta(days=12)).isoformat()}" in growing
    assert "<svg" in growing
    flat_row = page[page.index(">Flat<") :].split("</tr>")[0]
    assert "no history yet" in flat_row


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_new_audience_cannot_take_an_existing_name(api: Api) -> None:
    with api.services.uow.transaction() as session:
        definition = {"name": "Tagged", "condition": {"kind": "tag", "tag": "vip"}}
        service.save(session, definition, now=api.services.clock.now())
    csrf = _sign_in(api, "mia@example.com")
    data = {**_form(csrf, name="Tagged", op="save"), "draft": _draft(TWO_RULES), **TWO_RULES}
    answer = api.client.post("/audiences/new", data=data)
    assert answer.status_code == 409
    assert re.search(r'id="f-name-problem">There is already an audience named', answer.text)
    with api.services.uow.transaction() as session:
        assert service.get(session, "Tagged").version == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_says_where_the_audience_is_used(api: Api) -> None:
    now = api.services.clock.now()
    with api.services.uow.transaction() as session:
        tagged = {"name": "Tagged", "condition": {"kind": "tag", "tag": "vip"}}
        audience_id = service.save(session, tagged, now=now).audience.id
        inner = {"name": "Tagged in Lyon", "condition": {"kind": "all", "conditions": [
            {"kind": "audience", "audience": "Tagged"},
            {"kind": "attribute", "name": "city", "op": "equals", "value": "Lyon"},
        ]}}  # fmt: skip
        inner_id = service.save(session, inner, now=now).audience.id
    workflow = {
        "id": "welcome-tagged",
        "name": "Welcome the tagged",
        "trigger": {
            "type": "event",
            "event": "Audience Entered",
            "where": [{"property": "audience", "op": "equals", "value": "Tagged"}],
        },
        "steps": [{"id": "tag", "type": "tag", "add": ["welcomed"]}],
    }
    created = api.client.post("/v1/automations", json=workflow, headers=api.admin)
    assert created.status_code == 201, created.text
    sync = {"audience": "Tagged", "url": "https://connector.example/hook", "format": "google"}
    synced = api.client.post("/v1/ads/syncs", json=sync, headers=api.admin)
    assert synced.status_code == 201, synced.text
    _sign_in(api, "mia@example.com")
    page = api.client.get(f"/audiences/{audience_id}").text
    uses = page[page.index('id="uses-heading"') :]
    assert '<a href="/journeys/welcome-tagged">starts journey “Welcome the tagged”' in uses
    assert f'<a href="/audiences/{inner_id}">audience “Tagged in Lyon”</a>' in uses
    assert "(google) to https://connector.example/hook" in uses
    lonely = api.client.get(f"/audiences/{inner_id}").text
    assert "Nowhere yet" in lonely[lonely.index('id="uses-heading"') :]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_empty_field_is_named_once_left_or_on_save_never_in_pydantics_words(
    api: Api,
) -> None:
    csrf = _sign_in(api, "mia@example.com")
    tag_rule = '{"name": "", "condition": {"kind": "event_count", "event": "Order Completed"}}'
    chosen = {**_form(csrf, op="refresh"), "draft": tag_rule, "c.kind": "tag", "touched": "c.kind"}
    fresh = api.client.post("/audiences/new", data=chosen)
    assert fresh.status_code == 200
    assert "Fill in the tag" not in fresh.text  # the rule was just chosen
    assert "data-problem aria-describedby" not in fresh.text
    assert re.search(r'<input id="f-c--tag" name="c.tag" value="" data-problem', fresh.text)
    assert "Complete the rules to count." in fresh.text
    draft = re.search(r'name="draft" value="([^"]+)"', fresh.text)
    assert draft
    left = {**chosen, "draft": draft[1].replace("&#34;", '"'), "c.tag": "", "touched": "c.tag"}
    answer = api.client.post("/audiences/new", data=left)
    assert re.search(r'<p class="field-problem" id="f-c--tag-problem">Fill in the tag</p>',
                     answer.text)  # fmt: skip
    assert '<a href="#f-c--tag">The rules</a>: Fill in the tag' in answer.text
    saved = api.client.post("/audiences/new", data={**left, "touched": "", "op": "save"})
    assert saved.status_code == 422
    assert 'id="f-c--tag-problem">Fill in the tag<' in saved.text  # Save shows every problem
    assert "should have" not in saved.text
    named = {**left, "c.tag": "vip", "op": "save", "name": ""}
    unnamed = api.client.post("/audiences/new", data=named)
    assert unnamed.status_code == 422
    assert 'id="f-name-problem">Fill in the name<' in unnamed.text
    assert "Fill in the tag" not in unnamed.text
