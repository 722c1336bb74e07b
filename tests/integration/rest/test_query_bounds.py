"""Whole-number query parameters are bounded: a number no database column can hold (found by
the API fuzz test: ``?audience=-7551732753722703118266793984`` reached SQLite and failed with
an ``OverflowError``) gets a 422 naming the parameter, never a 500."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api

HUGE = str(2**100)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/reports/messages?audience={n}", "audience"),
        ("/v1/reports/splits?audience={n}", "audience"),
        ("/v1/reports/nps?audience={n}", "audience"),
        ("/v1/suppressions?before={n}", "before"),
        ("/v1/contacts?cluster={n}", "cluster"),
        ("/v1/affinity?window_days={n}", "window_days"),
        ("/v1/affinity?min_count={n}", "min_count"),
    ],
)
def test_a_number_too_large_for_the_store_is_refused_naming_the_parameter(
    api: Api, path: str, field: str
) -> None:
    for number in (HUGE, f"-{HUGE}"):
        answer = api.client.get(path.format(n=number), headers=api.admin)
        assert answer.status_code == 422, (path, number, answer.text)
        assert field in answer.text
