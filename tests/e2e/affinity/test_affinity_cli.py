"""``lealta affinity`` end to end on order files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lealta.cli.main import app

DATA = Path(__file__).parent.parent.parent / "data"
runner = CliRunner()

# Three orders: tee+jeans, tee+jeans, tee+shoes; the cancelled order C4 is left out.
LINES = """InvoiceNo,CustomerID,InvoiceDate,Category,Quantity,UnitPrice
1,ann,2024-05-01 10:00,tee,1,10
1,ann,2024-05-01 10:00,jeans,1,40
2,bob,2024-05-02 10:00,tee,2,10
2,bob,2024-05-02 10:00,jeans,1,40
3,bob,2024-05-20 10:00,shoes,1,60
3,bob,2024-05-20 10:00,tee,1,10
C4,ann,2024-05-21 10:00,shoes,-1,60
"""


def affinity(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["affinity", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def lines_csv(tmp_path: Path) -> Path:
    path = tmp_path / "lines.csv"
    path.write_text(LINES, encoding="utf-8")
    return path


def test_pairs_and_next_best_are_written(lines_csv: Path, tmp_path: Path) -> None:
    pairs, nexts, report = tmp_path / "pairs.csv", tmp_path / "next.csv", tmp_path / "r.html"
    code, _, err = affinity(
        lines_csv, "--output", pairs, "--next-best", nexts, "--report", report, "--min-count", "1"
    )
    assert code == 0, err
    assert "6 of 7 lines used" in err
    table = pd.read_csv(pairs).set_index(["item_a", "item_b"])
    # 3 baskets; tee in 3, jeans in 2: support 2/3, confidence jeans->tee 2/2, lift 1
    assert table.loc[("jeans", "tee"), "n_ab"] == 2
    assert table.loc[("jeans", "tee"), "support"] == pytest.approx(2 / 3)
    assert table.loc[("tee", "jeans"), "confidence"] == pytest.approx(2 / 3)
    assert table.loc[("shoes", "tee"), "lift"] == pytest.approx(1.0)
    # in sequence, bob goes from tee and jeans to shoes; ann holds tee and jeans: shoes for her
    suggestions = pd.read_csv(nexts)
    assert suggestions.to_dict("records") == [
        {"customer_id": "ann", "rank": 1, "item": "shoes", "score": pytest.approx(1.0)}
    ]
    html = report.read_text(encoding="utf-8")
    assert "Bought together" in html
    assert "Bought next" in html
    assert "<svg" in html


def test_the_uci_file_pairs_products_with_their_descriptions(tmp_path: Path) -> None:
    report, pairs = tmp_path / "r.html", tmp_path / "pairs.parquet"
    code, _, err = affinity(
        DATA / "online_retail_sample.csv.gz",
        "--by",
        "product",
        "--min-count",
        "3",
        "--report",
        report,
        "-o",
        pairs,
    )
    assert code == 0, err
    assert "cancelled: 458" not in err  # the rejects are in the report, not on screen
    table = pd.read_parquet(pairs)
    assert len(table) > 100
    assert (table.n_ab >= 3).all()
    assert table.lift.is_monotonic_decreasing
    html = report.read_text(encoding="utf-8")
    assert "StockCode" in html
    assert "cancelled: 458" in html
    first = table.iloc[0]
    assert f"{first.item_a} (" in html  # the product's description beside its code


def test_a_window_and_a_gap_limit_the_sequence(lines_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "seq.csv"
    # tee/jeans first on 1-2 May, shoes on 20 May: 18 days later for bob
    code, _, err = affinity(lines_csv, "--sequence", "--min-count", "1", "--gap", "18d", "-o", out)
    assert code == 0, err
    assert set(pd.read_csv(out).item_b) == {"shoes"}
    code, _, err = affinity(lines_csv, "--sequence", "--min-count", "1", "--gap", "17d", "-o", out)
    assert code == 0, err
    assert pd.read_csv(out).empty
    assert "no pair reaches the thresholds" in err
    # a 10-day window before 21 May keeps only bob's order 3: nothing before it
    code, _, err = affinity(
        lines_csv, "--sequence", "--min-count", "1", "--window", "10d", "--as-of", "2024-05-21",
        "-o", out,
    )  # fmt: skip
    assert code == 0, err
    assert "2 of 7 lines used" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--by", "product"], "no product column found"),
        (["--min-support", "2"], "minimum support"),
        (["--gap", "soon"], "--gap takes"),
        (["--output", "pairs.txt"], "use one of"),
        (["--item", "Colour"], "'Colour' (given for category)"),
        (["--from-store"], "--from-store reads the store"),
    ],
)
def test_bad_input_names_the_problem(lines_csv: Path, args: list[str], words: str) -> None:
    code, _, err = affinity(lines_csv, *args)
    assert code == 2
    assert words in " ".join(err.split())


def test_the_command_has_help() -> None:
    result = runner.invoke(app, ["affinity", "--help"])
    assert result.exit_code == 0
    assert "--next-best" in result.output
    assert "--sequence" in result.output
