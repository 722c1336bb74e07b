"""At scale the Journeys figures come from a summary at most a minute old; small, they are
counted for every page."""

from __future__ import annotations

import pytest

from lealta.console import journeys_page
from lealta.overview.summary import Freshness
from tests.integration.conftest import Api
from tests.integration.console.test_journeys import (
    REACTIVATION,
    _contact,
    _csrf,
    _enrol,
    _install,
    _sign_in,
)

WAITING = '<span class="label">Waiting here now</span><strong>'


def _started(api: Api) -> None:
    client = _sign_in(api, "marketer")
    _install(client)
    token = _csrf(client.get(f"/journeys/{REACTIVATION}").text)
    client.post(f"/journeys/{REACTIVATION}/enable", data={"csrf": token})
    _enrol(api, _contact(api, "marta@example.com"))


def test_small_figures_are_counted_for_every_page(api: Api) -> None:
    _started(api)
    client = api.client
    assert "1 in · 1 waiting" in client.get(f"/journeys/{REACTIVATION}").text
    _enrol(api, _contact(api, "luca@example.com"))
    assert "2 in · 2 waiting" in client.get(f"/journeys/{REACTIVATION}").text
    assert f"{WAITING}2</strong>" in client.get(f"/journeys/{REACTIVATION}/steps/window").text


def test_slow_figures_come_from_the_summary_and_people_stay_live(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a count of a run or more is slow; nothing is refreshed in the background during the test
    slow = Freshness(live_below=0.0, refresh_every=1_000.0, max_age=60.0)
    monkeypatch.setattr(journeys_page, "FRESHNESS", slow)
    monkeypatch.setattr(journeys_page, "LARGE", 1)
    _started(api)  # its pages were read before Marta entered: no run, counted live
    client = api.client
    assert "1 in · 1 waiting" in client.get(f"/journeys/{REACTIVATION}").text
    luca = _contact(api, "luca@example.com")
    _enrol(api, luca)
    assert "1 in · 1 waiting" in client.get(f"/journeys/{REACTIVATION}").text
    step = client.get(f"/journeys/{REACTIVATION}/steps/window").text
    assert f"{WAITING}1</strong>" in step
    assert f'href="/contacts/{luca}"' in step  # the list of people is always read live
    summaries = journeys_page.figures(api.services)
    assert summaries.read(("workflow", REACTIVATION))["stats"]["entered"] == 1
    summaries.close()
    assert "2 in · 2 waiting" in client.get(f"/journeys/{REACTIVATION}").text
