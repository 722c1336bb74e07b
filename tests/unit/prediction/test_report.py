"""The predicted-value report from a hand-made run: every section, text escaped, no script."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from lealta.prediction.holdout import compare, tracking_curve
from lealta.prediction.models import Params
from lealta.prediction.options import CLVOptions
from lealta.report.prediction import render_clv_report
from lealta.segmentation.pipeline import CleaningReport


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["<b>ann</b>", "bob", "cy"],
            "frequency": [4, 0, 9],
            "recency": [20.0, 0.0, 30.0],
            "T": [30.0, 12.0, 31.0],
            "monetary_value": [25.0, 0.0, 40.0],
            "p_alive": [0.8, 1.0, 0.2],
            "expected_purchases": [1.5, 0.1, 0.4],
            "expected_spend": [26.0, 30.0, 39.0],
            "clv": [39.0, 3.0, 15.6],
            "churn_risk": ["low", "new", "high"],
            "holdout_purchases": [2, 0, 1],
        }
    )


def run(with_holdout: bool) -> SimpleNamespace:
    frame = customers()
    check = None
    if with_holdout:
        actual = pd.DataFrame({"period": [1, 2, 3], "repeat_purchases": [1, 0, 2]})
        cohort = pd.Series([2, 1], index=[0.0, 1.0])
        curve = tracking_curve(actual, cohort, lambda ages: ages * 0.5, 3)
        check = compare(frame, [1.5, 0.2, 0.9], 14, curve)
    return SimpleNamespace(
        options=CLVOptions(horizon_days=90, holdout=14 if with_holdout else None),
        as_of=dt.date(2025, 3, 1),
        calibration_end=dt.date(2025, 2, 15),
        cleaning=CleaningReport(10, 9, {"bad_date": 1}),
        params=Params(
            {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}, {"p": 6.0, "q": 3.7, "gamma": 15.0}
        ),
        fitted=False,
        customers=frame,
        holdout=check,
        notes=[],
    )


def test_the_report_has_every_section_and_escapes_the_data() -> None:
    html = render_clv_report(run(with_holdout=True), source="orders<1>.csv")
    for heading in ("Fitted parameters", "Who is still a customer", "What customers are worth",
                    "Top 3 customers by predicted value", "Calibration and holdout"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in html
    assert "&lt;b&gt;ann&lt;/b&gt;" in html
    assert "<b>ann</b>" not in html
    assert "orders&lt;1&gt;.csv" in html
    assert "<script" not in html
    assert "<polyline" in html  # the cumulative curve


def test_without_a_holdout_there_is_no_holdout_section() -> None:
    html = render_clv_report(run(with_holdout=False), source="orders.csv")
    assert "Calibration and holdout" not in html
    assert "High churn risk" in html


def test_the_tracking_curve_adds_cohorts_by_age() -> None:
    actual = pd.DataFrame({"period": [1, 3], "repeat_purchases": [2, 5]})
    cohort = pd.Series([10, 4], index=[0.0, 2.0])  # 10 customers join at 0, 4 at period 2
    curve = tracking_curve(actual, cohort, lambda ages: ages * 0.1, 3)
    assert curve["actual"].tolist() == [2.0, 2.0, 7.0]
    # at the end of period 3: 10 customers aged 3 and 4 aged 1
    assert curve["predicted"].tolist()[-1] == pytest.approx(10 * 0.3 + 4 * 0.1)
    assert curve["predicted"].tolist()[0] == pytest.approx(10 * 0.1)
