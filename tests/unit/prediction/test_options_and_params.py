"""Prediction options, churn bands and parameter files: checked, with the field named."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from lealta.errors import InvalidInput
from lealta.prediction.bands import churn_band
from lealta.prediction.models import Params, read_params, write_params
from lealta.prediction.options import CLVOptions, parse_holdout, parse_span


def test_spans_are_read_in_days() -> None:
    assert parse_span("90d", "horizon") == 90
    assert parse_span("90", "horizon") == 90
    assert parse_span("39w", "holdout") == 273
    assert parse_span("3m", "horizon") == 90
    assert parse_span("1y", "horizon") == 365


@pytest.mark.parametrize("text", ["0d", "-3w", "w", "3q", "1.5m"])
def test_a_bad_span_names_its_option(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_span(text, "horizon")
    assert caught.value.field == "horizon"


def test_a_holdout_is_a_length_or_the_calibration_end() -> None:
    assert parse_holdout("39w") == 273
    assert parse_holdout("1997-09-30") == dt.date(1997, 9, 30)
    assert parse_holdout(None) is None
    with pytest.raises(InvalidInput, match="holdout"):
        parse_holdout("1997-13-01")


def test_the_calibration_ends_a_holdout_before_the_last_day() -> None:
    last = dt.date(1998, 6, 30)
    assert CLVOptions(holdout=273).calibration_end(last) == dt.date(1997, 9, 30)
    assert CLVOptions(holdout=dt.date(1997, 9, 30)).calibration_end(last) == dt.date(1997, 9, 30)
    assert CLVOptions().calibration_end(last) == last
    with pytest.raises(InvalidInput) as caught:
        CLVOptions(holdout=last).calibration_end(last)
    assert caught.value.field == "holdout"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period": "month"}, "period"),
        ({"horizon_days": 0}, "horizon"),
        ({"discount": 1.5}, "discount"),
        ({"discount": -0.1}, "discount"),
        ({"holdout": 0}, "holdout"),
    ],
)
def test_bad_options_name_their_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CLVOptions(**changes)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_churn_bands_split_at_0_3_and_0_7_and_set_one_time_buyers_apart() -> None:
    bands = churn_band([0.95, 0.7, 0.69, 0.3, 0.29, 1.0], [3, 1, 2, 5, 1, 0])
    assert list(bands) == ["low", "low", "medium", "medium", "high", "new"]


def test_params_round_trip_under_the_papers_names(tmp_path: Path) -> None:
    params = Params(
        bgnbd={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        gamma_gamma={"p": 6.25, "q": 3.74, "gamma": 15.44},
    )
    path = tmp_path / "params.json"
    write_params(params, path)
    assert json.loads(path.read_text()) == {
        "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
    }
    assert read_params(path).as_json() == params.as_json()


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("not json", "params"),
        ("[1, 2]", "params"),
        ('{"gamma_gamma": {"p": 1, "q": 1, "gamma": 1}}', "params.bgnbd"),
        (
            '{"bgnbd": {"r": 1, "alpha": "x", "a": 1, "b": 1}, '
            '"gamma_gamma": {"p": 1, "q": 1, "gamma": 1}}',
            "params.bgnbd.alpha",
        ),
        (
            '{"bgnbd": {"r": 1, "alpha": 1, "a": 1, "b": 1}, '
            '"gamma_gamma": {"p": 1, "q": -2, "gamma": 1}}',
            "params.gamma_gamma.q",
        ),
        (
            '{"bgnbd": {"r": 1, "alpha": 1, "a": 1, "b": 1}, "gamma_gamma": {"p": 1, "q": 1}}',
            "params.gamma_gamma.gamma",
        ),
    ],
)
def test_a_bad_params_file_names_the_field(tmp_path: Path, content: str, field: str) -> None:
    path = tmp_path / "params.json"
    path.write_text(content)
    with pytest.raises(InvalidInput) as caught:
        read_params(path)
    assert caught.value.field == field
