"""``lealta clv`` and ``lealta.clv`` end to end on the CDNOW sample."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lealta.cli.main import app

DATA = Path(__file__).parents[2] / "data"
# Every date comes from the file and the options: make test-future leaves these out.
# One group: the module's one fit is made once, not once per xdist worker.
pytestmark = [pytest.mark.dates_from_data, pytest.mark.xdist_group("clv_cli")]
CDNOW = DATA / "cdnow_sample.csv.gz"
runner = CliRunner()


def clv(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["clv", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One fit of the sample, with every output: 39 weeks held out and predicted."""
    out = tmp_path_factory.mktemp("clv")
    code, stdout, stderr = clv(
        CDNOW, "--customer", "sample_id", "--amount", "dollar_value",
        "--holdout", "39w", "--horizon", "39w", "--discount", "0.1",
        "-o", out / "customers.csv", "--report", out / "report.html",
        "--params-output", out / "params.json",
    )  # fmt: skip
    assert code == 0, stderr
    return out, " ".join(stdout.split())


def test_the_terminal_shows_parameters_bands_and_the_holdout_check(
    fitted: tuple[Path, str],
) -> None:
    _, stdout = fitted
    assert "calibration to 1997-09-30, holdout 273 days after it" in stdout
    assert "BG/NBD │ r │ 0.2426" in stdout
    assert "Gamma-Gamma │ gamma │ 15.4436" in stdout
    assert "one purchase only │ 1,411" in stdout
    assert "holdout: 1,882 repeat purchases" in stdout
    assert "mean absolute error per customer" in stdout


def test_params_output_holds_the_papers_names(fitted: tuple[Path, str]) -> None:
    out, _ = fitted
    params = json.loads((out / "params.json").read_text())
    assert set(params) == {"bgnbd", "gamma_gamma"}
    assert set(params["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(params["gamma_gamma"]) == {"p", "q", "gamma"}
    assert round(params["bgnbd"]["alpha"], 2) == 4.41


def test_the_customer_table_has_the_summary_and_the_predictions(fitted: tuple[Path, str]) -> None:
    out, _ = fitted
    table = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    assert len(table) == 2357
    assert table["customer_id"].is_unique
    for column in ("frequency", "recency", "T", "monetary_value", "p_alive",
                   "expected_purchases", "expected_spend", "clv", "churn_risk",
                   "holdout_purchases", "holdout_predicted"):  # fmt: skip
        assert column in table.columns, column
    # Discounting at 10 % a year makes value less than undiscounted purchases x spend.
    undiscounted = table["expected_purchases"] * table["expected_spend"]
    assert (table["clv"] <= undiscounted + 1e-9).all()
    assert (table["clv"] > 0.9 * undiscounted).all()


def test_the_report_has_every_section(fitted: tuple[Path, str]) -> None:
    out, _ = fitted
    html = (out / "report.html").read_text()
    for heading in ("Fitted parameters", "Who is still a customer", "What customers are worth",
                    "Top 20 customers by predicted value", "Calibration and holdout"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in html
    assert "Mean P(alive) by repeat purchases and age at last purchase" in html
    assert "Cumulative repeat purchases, actual and predicted" in html
    assert "<script" not in html


def test_given_params_score_without_refitting(fitted: tuple[Path, str], tmp_path: Path) -> None:
    import lealta

    out, _ = fitted
    params = json.loads((out / "params.json").read_text())
    scored = lealta.clv(
        CDNOW, columns={"customer": "sample_id", "amount": "dollar_value"},
        params=params, horizon="39w", discount=0.1, holdout="39w",
    )  # fmt: skip
    info = scored.attrs["lealta"]
    assert info["fitted"] is False
    assert info["params"] == params
    assert info["holdout"]["actual"] == 1882
    first = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    merged = first.merge(scored, on="customer_id", suffixes=("", "_again"))
    assert len(merged) == 2357
    assert (merged["clv"] - merged["clv_again"]).abs().max() < 1e-9


def test_given_params_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "params.json"
    bad.write_text('{"bgnbd": {"r": 1, "alpha": 1, "a": 1}, "gamma_gamma": {}}')
    code, _, stderr = clv(CDNOW, "--customer", "sample_id", "--params", bad)
    assert code == 2
    assert "bgnbd.b must be a number" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon", "soon"], "--horizon takes a positive number of days"),
        (["--holdout", "2001-01-01"], "nothing is left to hold out"),
        (["--discount", "2"], "the discount is an annual rate"),
        (["-o", "out.txt"], "cannot write .txt"),
    ],
)
def test_bad_options_are_named(args: list[str], message: str) -> None:
    code, _, stderr = clv(CDNOW, "--customer", "sample_id", "--amount", "dollar_value", *args)
    assert code == 2
    assert message in " ".join(stderr.split())
