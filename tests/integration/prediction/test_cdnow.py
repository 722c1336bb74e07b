"""Lealta reproduces the published CDNOW analysis of the "buy till you die" models.

Data: the CDNOW 1/10 sample of Fader and Hardie (``tests/data/cdnow_sample.csv.gz``): the
2,357 customers of the 23,570 in the master file (all who first bought at CDNOW in the first
quarter of 1997) that the authors drew at random. Their sample is the selection: each row
names the master file's customer (``master_id``) and the sample's (``sample_id``, 1…2357),
so the selection is reproduced by taking the master's rows of these customers. Calibration: the
first 39 weeks (1997-01-01 … 1997-09-30), holdout: the next 39 weeks (to 1998-06-30).

Published figures checked here:

- the per-customer summary (x, t_x, T in weeks and zbar, the mean repeat spend) that Fader and
  Hardie publish with their notes on the BG/NBD in Excel ("Implementing the BG/NBD model for
  customer base analysis in Excel", 2005) and on the Gamma-Gamma model (2013),
  ``tests/data/cdnow_fader_hardie_summary.csv``;
- BG/NBD: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, Fader, Hardie & Lee (2005),
  "'Counting your customers' the easy way: an alternative to the Pareto/NBD model",
  Marketing Science 24(2), 275-284, Table 1;
- Gamma-Gamma: p = 6.25, q = 3.74, gamma = 15.44, Fader & Hardie (2013), "The Gamma-Gamma
  model of monetary value" (the spend model of Fader, Hardie & Lee (2005), "RFM and CLV:
  using iso-value curves for customer base analysis", JMR 42(4), 415-430, on this data).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lealta.engines import connect
from lealta.prediction.options import CLVOptions
from lealta.prediction.pipeline import CLVRun, Reading, run_clv

DATA = Path(__file__).parents[2] / "data"
# Every date comes from the file and the options: make test-future leaves these out.
# One group: the module's one fit is made once, not once per xdist worker.
pytestmark = [pytest.mark.dates_from_data, pytest.mark.xdist_group("cdnow_fit")]
COLUMNS = {"customer": "sample_id", "date": "date", "amount": "dollar_value"}
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> CLVRun:
    options = CLVOptions(period="week", holdout=39 * 7, horizon_days=39 * 7)
    return run_clv(
        connect("duckdb"),
        DATA / "cdnow_sample.csv.gz",
        options=options,
        reading=Reading(columns=COLUMNS),
    )


def test_the_sample_is_the_published_selection() -> None:
    sample = pd.read_csv(DATA / "cdnow_sample.csv.gz")
    ids = sample.groupby("sample_id")["master_id"].nunique()
    assert len(ids) == 2357
    assert ids.eq(1).all()
    assert sample["master_id"].nunique() == 2357
    assert sample["date"].min() == 19970101
    assert sample["date"].max() == 19980630


def test_calibration_is_the_first_39_weeks(cdnow: CLVRun) -> None:
    assert str(cdnow.as_of) == "1998-06-30"
    assert str(cdnow.calibration_end) == "1997-09-30"
    assert cdnow.holdout is not None
    assert cdnow.holdout.holdout_days == 39 * 7


def test_the_summary_equals_the_published_one_for_every_customer(cdnow: CLVRun) -> None:
    published = pd.read_csv(DATA / "cdnow_fader_hardie_summary.csv").set_index("ID")
    ours = cdnow.customers.assign(ID=cdnow.customers["customer_id"].astype(int)).set_index("ID")
    assert sorted(ours.index) == sorted(published.index)
    ours = ours.loc[published.index]
    assert (ours["frequency"] == published["x"]).all()
    # Published to two decimals: ours must round to them (half a cent at most, either way).
    for column, theirs in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        gap = (ours[column] - published[theirs]).abs()
        assert gap.max() <= 0.005 + 1e-9, column


def test_bgnbd_parameters_match_fader_hardie_lee_2005(cdnow: CLVRun) -> None:
    for name, value in BGNBD.items():
        assert round(cdnow.params.bgnbd[name], 2) == round(value, 2), name
        assert cdnow.params.bgnbd[name] == pytest.approx(value, abs=0.0015), name


def test_gamma_gamma_parameters_match_the_published_ones(cdnow: CLVRun) -> None:
    for name, value in GAMMA_GAMMA.items():
        assert round(cdnow.params.gamma_gamma[name], 2) == value, name


def test_standard_errors_are_reported_and_small_beside_the_estimates(cdnow: CLVRun) -> None:
    for model, estimates in (("bgnbd", BGNBD), ("gamma_gamma", GAMMA_GAMMA)):
        errors = cdnow.params.errors[model]
        assert set(errors) == set(estimates)
        for name, value in estimates.items():
            assert 0 < errors[name] < value, (model, name)


def test_holdout_predictions_follow_the_actual_purchases(cdnow: CLVRun) -> None:
    check = cdnow.holdout
    assert check is not None
    assert check.customers == 2357
    assert check.actual == cdnow.customers["holdout_purchases"].sum()
    # The BG/NBD's known fit on CDNOW: within 15 % in aggregate, under one purchase per person.
    assert abs(check.aggregate_error) < 0.15
    assert check.mae < 1.0
    table = check.by_frequency.set_index("frequency")
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 2357
    # Customers who bought more in calibration buy more in the holdout, and are predicted to.
    assert table["predicted"].is_monotonic_increasing
    curve = check.tracking
    assert len(curve) == 78
    assert curve["actual"].iloc[-1] == pytest.approx(_all_repeat_purchases(), abs=0)
    assert abs(curve["predicted"].iloc[-1] / curve["actual"].iloc[-1] - 1) < 0.1


def _all_repeat_purchases() -> int:
    sample = pd.read_csv(DATA / "cdnow_sample.csv.gz")
    days = sample.groupby(["sample_id", "date"]).size().groupby("sample_id").size()
    return int((days - 1).sum())


def test_every_customer_is_scored(cdnow: CLVRun) -> None:
    scores = cdnow.customers
    assert scores["p_alive"].between(0, 1).all()
    assert (scores.loc[scores["frequency"] == 0, "p_alive"] == 1).all()
    assert (scores["expected_purchases"] >= 0).all()
    assert (scores["clv"] >= 0).all()
    # Undiscounted (the fixture's default), the value is expected purchases times spend.
    undiscounted = scores["expected_purchases"] * scores["expected_spend"]
    assert (scores["clv"] - undiscounted).abs().max() < 1e-9
    assert set(scores["churn_risk"]) <= {"low", "medium", "high", "new"}
    assert (scores.loc[scores["frequency"] == 0, "churn_risk"] == "new").all()
