"""Advertising exports from the store (SQLite and PostgreSQL): each source, consent in force,
every reason to leave someone out, the files' rows, the API and the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.config import get_settings
from lealta.contacts.search import ContactFilter
from lealta.errors import InvalidInput
from lealta.retargeting.normalize import sha256
from lealta.retargeting.people import Counts
from lealta.retargeting.service import export
from lealta.retargeting.sources import (
    Cluster,
    InAudience,
    OnList,
    Search,
    Segment,
    Source,
    Tag,
    WaitingAtStep,
)
from tests.integration.conftest import Api
from tests.integration.retargeting.helpers import audience, runs, score, shop

ANA_META = [
    sha256("ana.rossi@example.com"),
    sha256("390212345678"),
    sha256("ana"),
    sha256("rossi"),
    sha256("20121"),
    sha256("milano"),
    "",
    sha256("it"),
]
ANA_GOOGLE = [
    sha256("ana.rossi@example.com"),
    sha256("+390212345678"),
    sha256("ana"),
    sha256("rossi"),
    "it",
    "20121",
]


def run(api: Api, source: Source, format_: str = "meta", chunk: int = 2) -> tuple[Counts, list]:
    out = io.StringIO()
    with api.services.uow.transaction() as session:
        counts = export(session, source, out, format_=format_, country_default="IT", chunk=chunk)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    return counts, rows


def test_a_tag_exports_only_granted_people_and_counts_every_reason(api: Api) -> None:
    shop(api)

    counts, rows = run(api, Tag("vip"), "google")

    assert counts.as_dict() == {
        "exported": 2,  # Ana, Fay
        "erased": 0,  # erasure removed Eva's tags
        "no_ads_consent": 2,  # Ben (denied), Gus (never asked)
        "no_email_or_phone": 1,  # Dan
        "invalid_phone": 1,  # Cruz
        "left_out": 4,
    }
    assert rows[0] == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    assert sorted(rows[1:]) == sorted([ANA_GOOGLE, ["", sha256("+34600123456"), "", "", "", ""]])


def test_a_contact_search_counts_the_erased(api: Api) -> None:
    shop(api)

    counts, rows = run(api, Search(ContactFilter()))

    assert (counts.exported, counts.erased, counts.left_out) == (2, 1, 5)
    assert rows[0] == ["email", "phone", "fn", "ln", "zip", "ct", "st", "country"]
    assert ANA_META in rows


def test_a_list_exports_its_subscribed_members(api: Api) -> None:
    who = shop(api)
    left = api.client.delete(f"/v1/contacts/{who['ana']}/lists/news", headers=api.admin)
    assert left.status_code in (200, 204), left.text

    counts, _ = run(api, OnList("news"))

    assert (counts.exported, counts.no_ads_consent) == (0, 1)  # only Ben is still subscribed


def test_segments_and_clusters_export_their_people(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        score(session, [who["ana"], who["fay"], who["ben"]], segment="Champions", cluster=2)
        score(session, [who["gus"]], segment="At Risk", cluster=1)

    champions, rows = run(api, Segment("Champions"))
    cluster, _ = run(api, Cluster(1))

    assert (champions.exported, champions.no_ads_consent) == (2, 1)
    assert ANA_META in rows
    assert (cluster.exported, cluster.no_ads_consent) == (0, 1)


def test_an_audience_exports_its_members_by_name_or_id(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"], who["ben"], who["fay"]])

    by_name, rows = run(api, InAudience("Big spenders"))
    by_id, _ = run(api, InAudience(str(number)))

    assert by_name == by_id
    assert (by_name.exported, by_name.no_ads_consent, by_name.left_out) == (2, 1, 1)
    assert ANA_META in rows
    with pytest.raises(InvalidInput) as unknown, api.services.uow.transaction() as session:
        export(session, InAudience("Nobody"), io.StringIO(), format_="meta",
               country_default="IT")  # fmt: skip
    assert unknown.value.field == "audience"


def test_the_people_waiting_at_a_step_of_a_workflow(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        runs(
            session,
            {
                who["ana"]: ("wait-1", "waiting"),
                who["gus"]: ("wait-1", "waiting"),
                who["fay"]: ("wait-1", "active"),  # due now, not waiting
                who["ben"]: ("send-1", "waiting"),  # another step
            },
        )

    counts, rows = run(api, WaitingAtStep("welcome", "wait-1"))

    assert (counts.exported, counts.no_ads_consent, counts.left_out) == (1, 1, 1)
    assert rows[1] == ANA_META
    with pytest.raises(InvalidInput) as unknown, api.services.uow.transaction() as session:
        export(session, WaitingAtStep("welcome", "wait-9"), io.StringIO(), format_="meta",
               country_default="IT")  # fmt: skip
    assert unknown.value.field == "step"
    assert "wait-1, send-1" in str(unknown.value) or "send-1, wait-1" in str(unknown.value)


def test_the_consent_in_force_decides_and_a_withdrawal_takes_effect(api: Api) -> None:
    who = shop(api)
    withdrawn = api.client.put(
        f"/v1/contacts/{who['ana']}/consent/ads", json={"status": "denied"}, headers=api.admin
    )
    assert withdrawn.status_code == 200, withdrawn.text
    granted = api.client.put(
        f"/v1/contacts/{who['gus']}/consent/ads", json={"status": "granted"}, headers=api.admin
    )
    assert granted.status_code == 200, granted.text

    counts, rows = run(api, Tag("vip"))

    assert (counts.exported, counts.no_ads_consent) == (2, 2)  # Fay and Gus; Ana and Ben out
    assert [sha256("gus@example.com"), "", "", "", "", "", "", sha256("it")] in rows
    assert ANA_META not in rows


def test_bad_options_are_refused_naming_the_field(api: Api) -> None:
    shop(api)
    cases = [
        (OnList("nope"), "meta", "IT", "list"),
        (Tag("vip"), "tiktok", "IT", "format"),
        (Tag("vip"), "meta", "Italy", "country_default"),
    ]
    for source, format_, country, field in cases:
        with pytest.raises(InvalidInput) as refused, api.services.uow.transaction() as session:
            export(session, source, io.StringIO(), format_=format_, country_default=country)
        assert refused.value.field == field


def test_the_api_answers_the_file_with_the_counts_in_its_headers(api: Api) -> None:
    shop(api)

    answer = api.client.post(
        "/v1/ads/exports", json={"format": "google", "tag": "vip"}, headers=api.admin
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="google-tag-vip.csv"' in answer.headers["content-disposition"]
    assert answer.headers["Lealta-Exported"] == "2"
    assert answer.headers["Lealta-Left-Out-No-Ads-Consent"] == "2"
    assert answer.headers["Lealta-Left-Out-No-Email-Or-Phone"] == "1"
    assert answer.headers["Lealta-Left-Out-Invalid-Phone"] == "1"
    assert answer.headers["Lealta-Left-Out-Erased"] == "0"
    assert answer.headers["Lealta-Left-Out"] == "4"
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert ANA_GOOGLE in rows
    assert len(rows) == 3


def test_the_api_takes_a_contact_search_and_refuses_bad_requests(api: Api) -> None:
    who = shop(api)

    found = api.client.post(
        "/v1/ads/exports",
        json={"format": "meta", "search": {"q": "ana.rossi@example.com"}},
        headers=api.admin,
    )
    two = api.client.post(
        "/v1/ads/exports", json={"format": "meta", "tag": "vip", "list": "news"},
        headers=api.admin,
    )  # fmt: skip
    half = api.client.post(
        "/v1/ads/exports", json={"format": "meta", "workflow": "welcome"}, headers=api.admin
    )
    unknown = api.client.post(
        "/v1/ads/exports", json={"format": "meta", "list": "nope"}, headers=api.admin
    )
    anonymous = api.client.post("/v1/ads/exports", json={"format": "meta", "tag": "vip"})
    with api.services.uow.transaction() as session:
        audience(session, "Milano", [who["ana"]])
    members = api.client.post(
        "/v1/ads/exports", json={"format": "meta", "audience": "Milano"}, headers=api.admin
    )

    assert found.status_code == 200, found.text
    assert found.headers["Lealta-Exported"] == "1"
    assert list(csv.reader(io.StringIO(found.text)))[1] == ANA_META
    assert (two.status_code, two.json()["error"]["field"]) == (400, "source")
    assert (half.status_code, half.json()["error"]["field"]) == (400, "step")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "list")
    assert anonymous.status_code == 401
    assert members.status_code == 200, members.text
    assert 'filename="meta-audience-milano.csv"' in members.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(members.text)))[1:] == [ANA_META]


def test_the_command_line_writes_the_file_and_prints_the_counts(
    api: Api, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop(api)
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    out = tmp_path / "vip.csv"
    try:
        result = CliRunner().invoke(
            app,
            ["ads", "export", "--format", "meta", "--tag", "vip", "-o", str(out),
             "--country-default", "IT"],
        )  # fmt: skip
        refused = CliRunner().invoke(
            app, ["ads", "export", "--format", "meta", "--list", "nope", "-o", str(tmp_path / "x")]
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.stderr
    assert "tag vip: 2 exported" in result.stdout
    assert "2 without ads consent, 1 without e-mail or phone" in result.stdout
    assert "1 with an invalid phone only, 0 erased" in result.stdout
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["email", "phone", "fn", "ln", "zip", "ct", "st", "country"]
    assert ANA_META in rows
    assert refused.exit_code == 2
    assert "no list 'nope'" in refused.stderr
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "x.part").exists()
