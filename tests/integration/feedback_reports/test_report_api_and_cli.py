"""The report through the API and the command line; attribution and the webhook URL too."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import orjson
import pytest
from typer.testing import CliRunner

from lealta.cli.main import app as cli
from lealta.config import get_settings
from lealta.feedback.bounces import webhook_token
from tests.integration.conftest import Api
from tests.integration.feedback_reports.conftest import T0, Shop

D = dt.timedelta(days=1)


@pytest.fixture
def sent(shop: Shop) -> dict[str, int]:
    """Two welcome e-mails (one opened, clicked and followed by an order) and an SMS."""
    ana, bea = shop.person("ana@example.com"), shop.person("bea@example.com")
    shop.workflow("onboarding")
    ids = {
        "welcome-ana": shop.sent(ana, run_id=shop.run("onboarding", ana), step="day-0"),
        "welcome-bea": shop.sent(bea, run_id=shop.run("onboarding", bea), step="day-0"),
        "sms": shop.sent(bea, template="reminder", channel="sms", at=T0 + D),
    }
    shop.interact(ids["welcome-ana"], "opened", T0 + dt.timedelta(hours=1))
    shop.interact(ids["welcome-ana"], "clicked", T0 + dt.timedelta(hours=1))
    shop.order(ana, "o-1", T0 + D, "25.00")
    return ids


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line on the test database."""
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("LEALTA_PUBLIC_URL", "https://crm.shop.example")
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: the table is not squeezed
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_api_reports_per_step(api: Api, sent: dict[str, int], env: CliRunner) -> None:
    credited = env.invoke(cli, ["reports", "attribute", "--since", "2025-06-01"])
    assert credited.exit_code == 0, credited.output
    assert "credited 1 order(s)" in credited.stdout
    answer = api.client.get(
        "/v1/reports/messages",
        params={"by": "step", "since": "2025-06-01T00:00:00Z", "until": "2025-06-03"},
        headers=api.admin,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["by"], body["since"], body["until"]) == (
        "step",
        "2025-06-01T00:00:00Z",
        "2025-06-03T00:00:00Z",
    )
    (row,) = body["rows"]  # the SMS was sent on the 3rd: outside the range
    assert (row["workflow"], row["step"], row["template"]) == ("onboarding", "day-0", None)
    assert (row["sent"], row["opened_unique"], row["clicked_total"]) == (2, 1, 1)
    assert (row["converted"], row["revenue"], row["conversion_rate"]) == (1, "25.00", 0.5)


def test_the_api_needs_an_admin_key_and_a_known_grouping(api: Api) -> None:
    assert api.client.get("/v1/reports/messages").status_code == 401
    wrong = api.client.get("/v1/reports/messages", params={"by": "colour"}, headers=api.admin)
    assert wrong.status_code in (400, 422)
    assert "by" in wrong.text


def test_the_cli_prints_a_table_json_and_csv(sent: dict[str, int], env: CliRunner) -> None:
    table = env.invoke(cli, ["reports", "messages", "--by", "channel"])
    assert table.exit_code == 0, table.output
    assert "Messages by channel" in table.stdout
    rows = {
        cells[0]: cells
        for line in table.stdout.splitlines()
        if "│" in line
        for cells in [[cell.strip() for cell in line.split("│")[1:-1]]]
    }
    assert set(rows) == {"email", "sms"}
    # Sent, …, Revenue, then Open %, Click %, CTOR %: an SMS is never opened, so no CTOR.
    assert (rows["email"][1], rows["email"][10], rows["email"][12]) == ("2", "50.0", "100.0")
    assert (rows["sms"][1], rows["sms"][10], rows["sms"][12]) == ("1", "0.0", "-")
    as_json = env.invoke(cli, ["reports", "messages", "--by", "template", "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = {r["template"]: r for r in orjson.loads(as_json.stdout)["rows"]}
    assert (rows["welcome"]["sent"], rows["welcome"]["open_rate"]) == (2, 0.5)
    assert rows["reminder"]["sent"] == 1
    as_csv = env.invoke(
        cli, ["reports", "messages", "--by", "workflow", "--csv", "--until", "2025-06-03"]
    )
    assert as_csv.exit_code == 0, as_csv.output
    records = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["workflow"], r["sent"], r["clicked_unique"]) for r in records] == [
        ("onboarding", "2", "1")
    ]


def test_the_cli_refuses_bad_options(env: CliRunner, sent: dict[str, int]) -> None:
    both = env.invoke(cli, ["reports", "messages", "--json", "--csv"])
    assert both.exit_code == 2
    bad_date = env.invoke(cli, ["reports", "messages", "--since", "last tuesday"])
    assert bad_date.exit_code == 2
    assert "not a date" in bad_date.output
    bad_group = env.invoke(cli, ["reports", "messages", "--by", "colour"])
    assert bad_group.exit_code == 2
    assert "unknown grouping" in bad_group.output


def test_the_cli_prints_the_webhook_url_with_its_token(env: CliRunner) -> None:
    printed = env.invoke(cli, ["reports", "webhook-url"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.strip() == (
        "https://crm.shop.example/v1/feedback/bounces?token=" + webhook_token("cli-secret")
    )
