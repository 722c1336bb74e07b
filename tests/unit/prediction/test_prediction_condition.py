"""The ``prediction`` condition kind: parsed, checked by name, tested and explained in words."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.conditions import ContactView, dump, parse
from lealta.conditions.explain import describe, explain
from lealta.errors import InvalidInput

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
RISKY = {"p_alive": 0.21, "clv": 1234.5, "churn_band": "high"}


def test_it_reads_back_what_it_writes() -> None:
    data = {
        "kind": "prediction",
        "p_alive": {"lte": 0.3},
        "clv": {"gte": 100.0},
        "churn_band": "high",
    }
    assert dump(parse(data)) == data


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"kind": "prediction"}, "give p_alive, clv or churn_band"),
        ({"kind": "prediction", "p_alive": {}}, "give gte, lte or both"),
        ({"kind": "prediction", "clv": {"gte": 5, "lte": 1}}, "gte 5 is above lte 1"),
        ({"kind": "prediction", "churn_band": "lost"}, "churn_band"),
        ({"kind": "prediction", "p_alive": {"lte": 0.3}, "band": "high"}, "band"),
    ],
)
def test_a_wrong_condition_is_refused_in_words(data: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as problem:
        parse(data, field="goal")
    assert problem.value.field == "goal"


def test_it_is_explained_with_what_was_predicted() -> None:
    condition = parse({"kind": "prediction", "p_alive": {"lte": 0.3}, "churn_band": "high"})
    assert describe(condition) == "P(alive) at most 0.3, churn risk high"
    held = explain(condition, ContactView(id="c1", prediction=RISKY), NOW)
    assert held.held
    assert "P(alive) 0.21, predicted value 1,234.50, churn risk high" in held.why
    unscored = explain(condition, ContactView(id="c2"), NOW)
    assert not unscored.held
    assert "no predicted value yet" in unscored.why
    fine = explain(condition, ContactView(id="c3", prediction=RISKY | {"p_alive": 0.31}), NOW)
    assert not fine.held
