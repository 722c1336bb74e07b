"""The report pages through HTTP on SQLite and PostgreSQL: the same figures as the REST report,
the CSV, the contacts behind figures, A/B verdicts, NPS (all of them filtered by an audience
alike), and lifting a suppression (admins, CSRF, audited, on the contact's timeline)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import select

from lealta.audiences.tables import Audience, AudienceMember
from lealta.automations.tables import RunStep
from lealta.contacts.tables import Contact, Identifier
from lealta.events.tables import Event
from lealta.feedback.rollup import sweep
from lealta.feedback.suppressions import suppress
from lealta.feedback.surveys import answer, comment
from lealta.users.service import list_audit
from tests.integration.conftest import Api
from tests.integration.console.test_console import _csrf, _sign_in, _user
from tests.integration.feedback_reports.conftest import T0, Shop

PERIOD = "from=2025-06-01&to=2025-06-30"  # the shop's messages are sent on 2025-06-02 (T0)
SINCE, UNTIL = "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"
LATER = T0 + dt.timedelta(hours=2)


@dataclass
class Data:
    api: Api
    shop: Shop
    ana: str
    bo: str
    cy: str


def _split(shop: Shop, run_id: str, branch: str) -> None:
    with shop.uow.transaction() as session:
        session.add(
            RunStep(
                run_id=run_id,
                workflow_id="winback",
                step_id="test",
                outcome=f"split:{branch}",
                at=T0,
            )
        )


@pytest.fixture
def data(api: Api) -> Data:
    shop = Shop(api.services.uow)
    ana, bo, cy = (shop.person(f"{n}@example.com") for n in ("ana", "bo", "cy"))
    shop.workflow("winback")
    for who, template, kinds in (
        (ana, "welcome", ("opened", "clicked")),
        (bo, "welcome", ("opened",)),
        (cy, "sale", ()),
    ):
        outbox = shop.sent(who, template=template)
        for kind in kinds:
            shop.interact(outbox, kind, LATER)
    # a workflow's step, with an A/B split: 20 people per branch, B clicks far more
    people = [shop.person(f"p{i}@example.com") for i in range(40)]
    for i, who in enumerate(people):
        branch = "A" if i < 20 else "B"
        run = shop.run("winback", who)
        _split(shop, run, branch)
        sent = shop.sent(who, template=f"winback-{branch}", run_id=run, step="mail", at=LATER)
        clicks = 5 if branch == "A" else 15
        if i % 20 < clicks:
            shop.interact(sent, "clicked", LATER)
    # an NPS answer with a comment from ana
    first = shop.sent(ana, template="feedback", at=T0)
    with api.services.uow.transaction() as session:
        answer(session, outbox_id=first, score=3, survey="nps", at=LATER)
        comment(session, outbox_id=first, survey="nps", text="Too many e-mails", at=LATER)
    return Data(api, shop, ana, bo, cy)


def _signed_in(api: Api, role: str) -> None:
    _user(api, f"{role}@example.com", role)
    assert _sign_in(api.client, f"{role}@example.com") == 303


def test_the_page_shows_the_rest_reports_figures(data: Data) -> None:
    _signed_in(data.api, "viewer")
    rest = data.api.client.get(
        "/v1/reports/messages",
        params={"by": "template", "since": SINCE, "until": UNTIL},
        headers=data.api.admin,
    ).json()["rows"]
    answer = data.api.client.get(f"/reports?by=template&{PERIOD}")
    assert answer.status_code == 200
    table = answer.text.split('id="table-h"')[1].split("</table>")[0]
    for row in rest:
        cells = re.search(
            rf'<th scope="row">{re.escape(row["template"])}</th>(.*?)</tr>', table, re.S
        )
        assert cells, row["template"]
        numbers = [int(n.replace(",", "")) for n in re.findall(r'">([\d,]+)</a>', cells[1])]
        assert numbers[:8] == [
            row["sent"],
            row["delivered"],
            row["bounced"],
            row["opened_unique"],
            row["clicked_unique"],
            row["unsubscribed"],
            row["complained"],
            row["converters"],
        ]
    cards = answer.text.split('aria-label="Totals"')[1].split("</section>")[0]
    sent = sum(r["sent"] for r in rest)
    assert re.search(rf"Messages sent</span><strong>{sent}</strong>", cards)
    welcome = next(r for r in rest if r["template"] == "welcome")
    assert (welcome["sent"], welcome["opened_unique"], welcome["clicked_unique"]) == (2, 2, 1)
    # nothing reported delivered: the page says why rather than showing a bare 0
    assert 'id="no-deliveries"' in answer.text


def test_the_csv_has_a_header_and_the_rest_reports_rows(data: Data) -> None:
    _signed_in(data.api, "viewer")
    answer = data.api.client.get(f"/reports.csv?by=step&{PERIOD}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert (
        "lealta-report-by-step-2025-06-01-to-2025-06-30.csv"
        in answer.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    rest = data.api.client.get(
        "/v1/reports/messages",
        params={"by": "step", "since": SINCE, "until": UNTIL},
        headers=data.api.admin,
    ).json()["rows"]
    assert [(r["workflow"], r["step"], int(r["sent"]), int(r["clicked_unique"])) for r in rows] == [
        (r["workflow"], r["step"], r["sent"], r["clicked_unique"]) for r in rest
    ]
    assert ("winback", "mail", 40, 20) in [
        (r["workflow"], r["step"], int(r["sent"]), int(r["clicked_unique"])) for r in rows
    ]
    bad = data.api.client.get("/reports.csv?from=2025-13-01&to=2025-06-30")
    assert bad.status_code == 400
    assert "From: '2025-13-01' is not a date" in bad.text


def test_each_count_links_to_the_people_behind_it(data: Data) -> None:
    _signed_in(data.api, "viewer")
    page = data.api.client.get(f"/reports?by=template&{PERIOD}").text
    link = re.search(
        r'href="(/reports/contacts\?[^"]*template=welcome[^"]*figure=clicked[^"]*)"', page
    ) or re.search(
        r'href="(/reports/contacts\?[^"]*figure=clicked[^"]*template=welcome[^"]*)"', page
    )
    assert link, "no link behind welcome's clicks"
    people = data.api.client.get(link[1].replace("&amp;", "&"))
    assert people.status_code == 200
    assert "ana@example.com" in people.text
    assert "bo@example.com" not in people.text
    assert "<strong>1</strong> contact" in people.text


def test_an_ab_split_shows_both_branches_and_the_verdict(data: Data) -> None:
    _signed_in(data.api, "viewer")
    page = data.api.client.get(f"/reports?{PERIOD}").text
    splits = page.split('id="splits-h"')[1].split("</section>")[0]
    assert "winback · split “test”" in splits
    assert (
        "B&#39;s click rate 75.0% vs A&#39;s 25.0%, n=20 and 20: significant at 95% (p = 0.002)"
        in splits
    )
    branch_b = data.api.client.get(
        f"/reports/contacts?kind=split&workflow=winback&step=test&branch=B&figure=clicked&{PERIOD}"
    )
    assert "<strong>15</strong> contacts" in branch_b.text


def test_nps_shows_the_score_categories_and_comments(data: Data) -> None:
    _signed_in(data.api, "viewer")
    page = data.api.client.get(f"/reports?{PERIOD}").text
    nps = page.split('id="nps-h"')[1].split("</section>")[0]
    assert "<strong>-100</strong>" in nps
    assert "“Too many e-mails”" in nps
    detractors = data.api.client.get(
        f"/reports/contacts?kind=nps&survey=nps&category=detractor&{PERIOD}"
    )
    assert "ana@example.com" in detractors.text


def test_bad_period_is_named_not_a_500(data: Data) -> None:
    _signed_in(data.api, "viewer")
    answer = data.api.client.get("/reports?from=2025-06-30&to=2025-06-01")
    assert answer.status_code == 400
    assert "To (2025-06-01) is before from (2025-06-30)" in answer.text
    answer = data.api.client.get("/reports/contacts?kind=message&figure=liked&" + PERIOD)
    assert answer.status_code == 400
    assert "unknown figure &#39;liked&#39;" in answer.text


def _suppressed(data: Data, address: str) -> None:
    with data.api.services.uow.transaction() as session:
        suppress(session, channel="email", address=address, reason="bounce", source="test", at=T0)


def test_deliverability_lists_bounces_by_domain_and_the_suppression_list(data: Data) -> None:
    outbox = data.shop.sent(data.cy, template="sale")
    data.shop.interact(
        outbox, "bounced", LATER, details={"address": "cy@example.com", "bounce_type": "hard"}
    )
    _suppressed(data, "cy@example.com")
    _signed_in(data.api, "viewer")
    page = data.api.client.get(f"/reports/deliverability?{PERIOD}")
    assert page.status_code == 200
    assert '<th scope="row">example.com</th>' in page.text
    assert "cy@example.com" in page.text
    assert "Only an admin can remove an address." in page.text
    assert 'action="/reports/deliverability/lift"' not in page.text
    found = data.api.client.get(f"/reports/deliverability?q=nobody&{PERIOD}").text
    assert "No suppressed address contains “nobody”." in found
    behind = data.api.client.get(
        f"/reports/contacts?kind=domain&domain=example.com&figure=bounced&{PERIOD}"
    ).text
    assert "cy@example.com" in behind


def test_removing_a_suppression_needs_an_admin_the_form_token_and_a_reason(data: Data) -> None:
    _suppressed(data, "bo@example.com")
    form = {"channel": "email", "address": "bo@example.com", "reason": "she fixed her mailbox"}
    _signed_in(data.api, "marketer")
    page = data.api.client.get("/reports/deliverability").text
    refused = data.api.client.post(
        "/reports/deliverability/lift", data={**form, "csrf": _csrf(page)}
    )
    assert refused.status_code == 403
    data.api.client.cookies.clear()
    _signed_in(data.api, "admin")
    assert data.api.client.post("/reports/deliverability/lift", data=form).status_code == 403
    token = _csrf(data.api.client.get("/reports/deliverability").text)
    no_reason = data.api.client.post(
        "/reports/deliverability/lift", data={**form, "reason": " ", "csrf": token}
    )
    assert no_reason.status_code == 400
    assert "give a reason" in no_reason.text
    assert data.shop.suppression("bo@example.com") is not None
    done = data.api.client.post("/reports/deliverability/lift", data={**form, "csrf": token})
    assert done.status_code == 200
    assert "bo@example.com may receive email messages again." in done.text
    assert data.shop.suppression("bo@example.com") is None
    with data.api.services.uow.transaction() as session:
        entry = list_audit(session, limit=1)[0]
        assert (entry.action, entry.user_email) == ("suppression lifted", "admin@example.com")
        assert entry.detail["reason"] == "she fixed her mailbox"
        assert entry.target == f"contact {data.bo}"
        lifted = session.scalars(
            select(Event).where(Event.contact_id == data.bo, Event.name == "Suppression Lifted")
        ).one()
        assert lifted.properties["by"] == "console:admin@example.com"
    again = data.api.client.post("/reports/deliverability/lift", data={**form, "csrf": token})
    assert again.status_code == 400
    assert "bo@example.com is not on the email suppression list" in again.text


def test_the_api_lists_and_lifts_suppressions_with_the_same_service(data: Data) -> None:
    _suppressed(data, "ana@example.com")
    _suppressed(data, "cy@example.com")
    found = data.api.client.get("/v1/suppressions?q=ANA", headers=data.api.admin).json()
    assert found["total"] == 1
    assert [s["address"] for s in found["suppressions"]] == ["ana@example.com"]
    assert data.api.client.get("/v1/suppressions").status_code == 401
    no_reason = data.api.client.delete(
        "/v1/suppressions/email/ana@example.com", headers=data.api.admin
    )
    assert no_reason.status_code == 422
    lifted = data.api.client.delete(
        "/v1/suppressions/email/Ana@Example.com?reason=asked+by+phone", headers=data.api.admin
    )
    assert lifted.status_code == 200
    assert lifted.json()["contact_id"] == data.ana
    assert data.shop.suppression("ana@example.com") is None
    assert data.shop.events(data.ana, "Suppression Lifted")[0].properties["reason"] == (
        "asked by phone"
    )
    again = data.api.client.delete(
        "/v1/suppressions/email/ana@example.com?reason=again", headers=data.api.admin
    )
    assert again.status_code == 404


def _sent_total(page: str) -> int:
    cards = page.split('aria-label="Totals"')[1].split("</section>")[0]
    found = re.search(r"Messages sent</span><strong>([\d,]+)</strong>", cards)
    assert found, cards
    return int(found[1].replace(",", ""))


def test_a_large_slow_report_is_served_from_a_summary_a_small_one_live(
    data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lealta.console import reports_page
    from lealta.overview.summary import Freshness

    _signed_in(data.api, "viewer")
    first = _sent_total(data.api.client.get(f"/reports?{PERIOD}").text)
    data.shop.sent(data.cy, template="sale")
    # a small shop's report is live, however slow the machine
    assert _sent_total(data.api.client.get(f"/reports?{PERIOD}").text) == first + 1

    # counted "slowly" over "many" messages: the next reader gets the summary, which says
    # when it was counted, until it is recounted
    monkeypatch.setattr(reports_page, "LARGE", 1)
    monkeypatch.setattr(reports_page, "WAIT", 30.0)  # however busy the machine
    monkeypatch.setattr(reports_page, "FRESHNESS", Freshness(live_below=0.0, refresh_every=600))
    reports_page.forget_figures(data.api.services)
    counted = data.api.client.get(f"/reports?{PERIOD}").text
    assert _sent_total(counted) == first + 1
    data.shop.sent(data.cy, template="sale")
    again = data.api.client.get(f"/reports?{PERIOD}").text
    assert _sent_total(again) == first + 1  # from the summary
    assert "Figures as of" in again
    reports_page.forget_figures(data.api.services)


def test_a_long_first_count_answers_counting_and_the_figures_follow(
    data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from lealta.console import reports_page

    gate = threading.Event()
    counting = reports_page.report_and_totals  # type: ignore[attr-defined]

    def held(*args: object, **kw: object) -> object:
        if kw.get("people", True):  # the people counted once take long; the rollup does not
            assert gate.wait(30), "the test never let the count finish"
        return counting(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(reports_page, "report_and_totals", held)
    monkeypatch.setattr(reports_page, "WAIT", 0.2)
    monkeypatch.setattr(reports_page, "ROLLUP_WAIT", 20.0)  # however busy the machine
    monkeypatch.setattr(reports_page, "LARGE", 40)  # the period's 44 messages are "many"
    reports_page.forget_figures(data.api.services)
    _signed_in(data.api, "viewer")
    started = time.monotonic()
    page = data.api.client.get(f"/reports?{PERIOD}")
    assert time.monotonic() - started < 20  # the page did not wait for the count (30 s)
    assert page.status_code == 200
    assert "Counting…" in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text
    # meanwhile the figures that add up, from the rollup; the people counted once to come
    assert _sent_total(page.text) == 44  # 3 e-mails, 40 of the split, 1 survey
    assert "counting people who clicked" in page.text
    table = page.text.split('id="table-h"')[1].split("</table>")[0]
    # by workflow, (none) and winback: opened, clicked and buyers to come in each
    assert table.count('<td class="num counting">…</td>') == 6
    assert 'id="over-time"' not in page.text
    assert "winback · split “test”" in page.text
    gate.set()
    for _ in range(100):  # as the page reloads itself: the figures arrive when counted
        page = data.api.client.get(f"/reports?{PERIOD}")
        if "Counting…" not in page.text:
            break
        time.sleep(0.1)
    assert _sent_total(page.text) == 44
    assert "http-equiv" not in page.text
    assert "Figures as of" in page.text
    assert "21 people clicked" in page.text  # ana, and 5 + 15 of the split
    assert 'id="over-time"' in page.text
    reports_page.forget_figures(data.api.services)


def test_a_small_shops_slow_count_is_waited_for(
    data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from lealta.console import reports_page

    gate = threading.Event()
    counting = reports_page.report_and_totals  # type: ignore[attr-defined]

    def held(*args: object, **kw: object) -> object:
        assert gate.wait(30), "the timer never let the count finish"
        return counting(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(reports_page, "report_and_totals", held)
    monkeypatch.setattr(reports_page, "WAIT", 0.1)
    reports_page.forget_figures(data.api.services)
    _signed_in(data.api, "viewer")
    timer = threading.Timer(0.5, gate.set)  # a count slower than WAIT, of 44 messages
    timer.start()
    page = data.api.client.get(f"/reports?{PERIOD}").text
    timer.join()
    assert "Counting…" not in page
    assert _sent_total(page) == 44
    reports_page.forget_figures(data.api.services)


def _audience(data: Data, name: str, members: list[str]) -> int:
    with data.api.services.uow.transaction() as session:
        audience = Audience(name=name, condition={"kind": "tag", "tag": name})
        session.add(audience)
        session.flush()
        session.add_all(AudienceMember(audience_id=audience.id, contact_id=c) for c in members)
        return audience.id


def _rest(data: Data, **params: object) -> list[dict[str, object]]:
    answer = data.api.client.get(
        "/v1/reports/messages",
        params={"by": "template", "since": SINCE, "until": UNTIL, **params},
        headers=data.api.admin,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["rows"]


def test_an_audience_filters_the_reports_to_its_members_messages(data: Data) -> None:
    # whole days rolled up: the unfiltered report reads the rollup, the filtered ones the rows
    with data.api.services.uow.transaction() as session:
        sweep(session, now=dt.datetime(2025, 7, 2, tzinfo=dt.UTC))
    ana_cy = _audience(data, "ana-cy", [data.ana, data.cy])
    everyone = _rest(data)
    assert _rest(data, audience=_audience(data, "all", _contacts(data))) == everyone
    # what the report of a store holding only ana and cy would show
    only = {r["template"]: r for r in _rest(data, audience=ana_cy)}
    assert {t: (r["sent"], r["opened_unique"], r["clicked_unique"]) for t, r in only.items()} == {
        "welcome": (1, 1, 1),
        "sale": (1, 0, 0),
        "feedback": (1, 0, 1),  # ana's survey answer
    }
    assert only["feedback"] == next(r for r in everyone if r["template"] == "feedback")
    assert only["welcome"]["open_rate"] == 1.0
    bad = data.api.client.get(
        "/v1/reports/messages", params={"audience": 999}, headers=data.api.admin
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "audience"

    _signed_in(data.api, "viewer")
    whole = data.api.client.get(f"/reports?by=template&{PERIOD}")
    assert re.search(
        rf"Messages sent</span><strong>{sum(r['sent'] for r in everyone)}</strong>", whole.text
    )
    page = data.api.client.get(f"/reports?by=template&{PERIOD}&audience={ana_cy}")
    assert page.status_code == 200
    assert "Audience: <strong>ana-cy</strong>" in page.text
    cards = page.text.split('aria-label="Totals"')[1].split("</section>")[0]
    assert re.search(r"Messages sent</span><strong>3</strong>", cards)  # not the whole report kept
    assert f"audience={ana_cy}" in page.text.split('id="table-h"')[1]  # kept in the links
    behind = data.api.client.get(
        f"/reports/contacts?kind=message&by=template&template=welcome&{PERIOD}&audience={ana_cy}"
    )
    assert "ana@example.com" in behind.text
    assert "bo@example.com" not in behind.text
    rows = list(
        csv.DictReader(
            io.StringIO(
                data.api.client.get(f"/reports.csv?by=template&{PERIOD}&audience={ana_cy}").text
            )
        )
    )
    assert sorted((r["template"], int(r["sent"])) for r in rows) == [
        ("feedback", 1),
        ("sale", 1),
        ("welcome", 1),
    ]
    assert "error" in data.api.client.get(f"/reports?{PERIOD}&audience=999").text


def _contacts(data: Data) -> list[str]:
    with data.api.services.uow.transaction() as session:
        return list(session.scalars(select(Contact.id)))


def _by_email(data: Data, *emails: str) -> list[str]:
    with data.api.services.uow.transaction() as session:
        found = select(Identifier.contact_id).where(Identifier.value.in_(emails))
        return list(session.scalars(found))


def _branches(data: Data, **params: object) -> dict[str, tuple[int, int]]:
    """Branch → (people, clicked) of the REST split report."""
    answer = data.api.client.get(
        "/v1/reports/splits",
        params={"since": SINCE, "until": UNTIL, **params},
        headers=data.api.admin,
    )
    assert answer.status_code == 200, answer.text
    (split,) = answer.json()["splits"]
    assert (split["workflow"], split["step"]) == ("winback", "test")
    return {b["name"]: (b["people"], b["clicked"]) for b in split["branches"]}


def _surveys(data: Data, **params: object) -> list[dict[str, object]]:
    answer = data.api.client.get("/v1/reports/nps", params=params, headers=data.api.admin)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["surveys"])


def test_an_audience_filters_the_ab_splits_and_nps_to_its_members(data: Data) -> None:
    # p0-p9 of branch A (p0-p4 clicked) and p20-p29 of branch B (all clicked), and ana
    half = _by_email(data, *(f"p{i}@example.com" for i in (*range(10), *range(20, 30))))
    members = _audience(data, "half", [*half, data.ana])
    assert _branches(data) == {"A": (20, 5), "B": (20, 15)}
    assert _branches(data, audience=members) == {"A": (10, 5), "B": (10, 10)}
    assert _branches(data, audience=_audience(data, "all", _contacts(data))) == _branches(data)
    (survey,) = _surveys(data, audience=members)
    assert (survey["survey"], survey["answers"], survey["nps"]) == ("nps", 1, -100)
    assert [c["text"] for c in survey["comments"]] == ["Too many e-mails"]  # type: ignore[union-attr]
    assert _surveys(data, audience=_audience(data, "bo", [data.bo])) == []
    assert _surveys(data) == [survey]
    for path in ("/v1/reports/splits", "/v1/reports/nps"):
        bad = data.api.client.get(path, params={"audience": 999}, headers=data.api.admin)
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "audience"

    _signed_in(data.api, "viewer")
    page = unescape(data.api.client.get(f"/reports?{PERIOD}&audience={members}").text)
    splits = page.split('id="splits-h"')[1].split("</section>")[0]
    assert "B's click rate 100.0% vs A's 50.0%, n=10 and 10" in splits
    links = re.findall(r'href="(/reports/contacts\?[^"]*kind=split[^"]*)"', splits)
    assert len(links) == 8  # people, opened, clicked, goal of two branches
    assert all(link.endswith(f"{PERIOD}&audience={members}") for link in links)
    behind = data.api.client.get(
        f"/reports/contacts?kind=split&workflow=winback&step=test&branch=A&figure=people"
        f"&{PERIOD}&audience={members}"
    ).text
    assert set(re.findall(r"<td>(p\d+)@example.com</td>", behind)) == {f"p{i}" for i in range(10)}
    assert "“Too many e-mails”" in page.split('id="nps-h"')[1]
    nobody = data.api.client.get(f"/reports?{PERIOD}&audience={_audience(data, 'cy', [data.cy])}")
    assert "No A/B split sent anyone in this period" in nobody.text
    assert "Nobody answered a survey in this period" in nobody.text
    whole = data.api.client.get(f"/reports?{PERIOD}").text
    assert "n=20 and 20" in whole.split('id="splits-h"')[1]
