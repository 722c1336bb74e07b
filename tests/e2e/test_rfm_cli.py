"""``lealta rfm`` end to end on the shared public data and on broken files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lealta.cli.main import app

DATA = Path(__file__).parent.parent / "data"
runner = CliRunner()


def rfm(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["rfm", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_online_retail_is_detected_cleaned_and_segmented(tmp_path: Path) -> None:
    out, rejects = tmp_path / "rfm.csv", tmp_path / "rejects.csv"
    code, stdout, _ = rfm(
        DATA / "online_retail_sample.csv.gz", "--output", out, "--rejects", rejects
    )
    assert code == 0
    assert "customer=CustomerID (detected)" in " ".join(stdout.split())
    assert "Champions" in stdout
    table = pd.read_csv(out, dtype={"customer_id": str})
    assert table.customer_id.is_unique
    assert table[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    dropped = pd.read_csv(rejects, dtype=str)
    assert set(dropped.reason) <= {
        "missing_customer",
        "cancelled",
        "non_positive_price",
        "returned",
    }
    first_cancel = dropped[dropped.reason == "cancelled"].iloc[0]
    with gzip.open(DATA / "online_retail_sample.csv.gz", "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[int(first_cancel.line) - 1].startswith(first_cancel.InvoiceNo + ",")


def test_rows_kept_plus_rows_dropped_is_every_row(tmp_path: Path) -> None:
    import lealta

    result = lealta.rfm(DATA / "online_retail_sample.csv.gz")
    info = result.attrs["lealta"]
    assert info["rows_read"] == 30_000
    assert info["rows_kept"] + sum(info["rejected"].values()) == 30_000


def test_cdnow_compact_dates_and_zero_amounts(tmp_path: Path) -> None:
    out = tmp_path / "rfm.parquet"
    code, stdout, _ = rfm(DATA / "cdnow_sample.csv.gz", "--customer", "master_id", "-o", out)
    assert code == 0, stdout
    table = pd.read_parquet(out)
    # 8 of the 2,357 customers only ever bought for $0: nothing is left to score for them.
    assert len(table) == 2349
    assert "amount is zero or negative" in " ".join(stdout.split())


def test_the_report_is_one_offline_file(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    code, _, _ = rfm(DATA / "rfm_data_orders.csv.gz", "--report", report, "--quiet")
    assert code == 0
    html = report.read_text(encoding="utf-8")
    assert "Champions" in html
    assert "<script src" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_summary_output_has_a_row_per_segment(tmp_path: Path) -> None:
    summary = tmp_path / "segments.csv"
    code, _, _ = rfm(DATA / "rfm_data_orders.csv.gz", "--summary-output", summary, "-q")
    assert code == 0
    table = pd.read_csv(summary)
    assert table.customers.sum() == 995
    assert table.revenue_share.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx", ".jsonl"])
def test_other_input_formats_give_the_same_scores(tmp_path: Path, suffix: str) -> None:
    frame = pd.read_csv(DATA / "rfm_data_orders.csv.gz")
    path = tmp_path / f"orders{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    base, other = tmp_path / "a.csv", tmp_path / "b.csv"
    assert rfm(DATA / "rfm_data_orders.csv.gz", "-o", base, "-q")[0] == 0
    assert rfm(path, "-o", other, "-q")[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(base), pd.read_csv(other))


@pytest.mark.parametrize("purchase", ["order", "day", "row"])
def test_parquet_is_cleaned_counted_and_scored_like_the_same_csv(
    tmp_path: Path, purchase: str
) -> None:
    """Parquet counts its kept rows as its total less the rejected ones (no count per row):
    the report and the customers must match the CSV's, where every row is counted. The
    sample has invoices of several lines of which some are rejected (cancellations, zero
    prices, missing customers)."""
    import lealta

    csv = DATA / "online_retail_sample.csv.gz"
    parquet = tmp_path / "orders.parquet"
    pd.read_csv(csv, dtype=str).to_parquet(parquet)
    from_csv = lealta.rfm(csv, purchase=purchase)
    from_parquet = lealta.rfm(parquet, purchase=purchase)
    report = {k: from_parquet.attrs["lealta"][k] for k in ("rows_read", "rows_kept", "rejected")}
    assert report == {k: from_csv.attrs["lealta"][k] for k in report}
    assert report["rows_read"] == 30_000
    assert report["rows_kept"] + sum(report["rejected"].values()) == 30_000
    assert set(report["rejected"]) >= {"missing_customer", "cancelled"}
    pd.testing.assert_frame_equal(from_csv, from_parquet)


def test_a_misspelled_column_is_one_clear_message(tmp_path: Path) -> None:
    code, stdout, stderr = rfm(DATA / "rfm_data_orders.csv.gz", "--customer", "custmer_id")
    assert code == 2
    assert "did you mean 'customer_id'" in stderr
    assert "Traceback" not in stdout + stderr


def test_an_empty_file_is_one_clear_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    code, _, stderr = rfm(empty)
    assert code == 2
    assert "empty" in stderr


def test_a_header_without_rows_is_one_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("customer_id,order_date,amount\n", encoding="utf-8")
    code, _, stderr = rfm(path)
    assert code == 2
    assert "no rows" in stderr


def test_a_file_in_the_wrong_encoding_names_the_option(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("customer_id,order_date,amount\nJosé,2024-01-01,10\n".encode("latin-1"))
    code, _, stderr = rfm(path)
    assert code == 2
    assert "--encoding" in stderr
    assert rfm(path, "--encoding", "latin-1", "-q")[0] == 0


def test_malformed_rows_are_reported_and_good_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,order_date,amount\n"
        "a,2024-01-01,10\n"
        "b,2024-01-02,20,surplus\n"
        "c,yesterday,5\n"
        "d,2024-01-03,7\n",
        encoding="utf-8",
    )
    rejects, out = tmp_path / "rejects.csv", tmp_path / "out.csv"
    code, _, _ = rfm(path, "--rejects", rejects, "-o", out, "-q")
    assert code == 0
    assert pd.read_csv(out).customer_id.tolist() == ["a", "d"]
    dropped = pd.read_csv(rejects)
    assert dropped[["line", "reason"]].values.tolist() == [[3, "malformed"], [4, "bad_date"]]


def test_an_unknown_file_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.xml"
    path.write_text("<orders/>", encoding="utf-8")
    code, _, stderr = rfm(path)
    assert code == 2
    assert "supported" in stderr


def test_help_documents_every_option_group() -> None:
    result = runner.invoke(app, ["rfm", "--help"])
    assert result.exit_code == 0
    for option in ("--customer", "--as-of", "--window", "--best", "--preset", "--report"):
        assert option in result.stdout


def test_european_files_with_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "pedidos.csv"
    path.write_text(
        "cliente;fecha;pedido;importe\n"
        "ana;2024-01-02;P1;1.234,50\n"
        "ana;2024-02-03;P2;10,25\n"
        "luis;2024-01-15;P3;99,99\n",
        encoding="utf-8",
    )
    out = tmp_path / "rfm.csv"
    code, stdout, stderr = rfm(
        path, "--customer", "cliente", "--date", "fecha", "--order", "pedido",
        "--amount", "importe", "--decimal-comma", "-o", out, "-q",
    )  # fmt: skip
    assert code == 0, stdout + stderr
    table = pd.read_csv(out).set_index("customer_id")
    assert table.loc["ana", "monetary"] == pytest.approx(1244.75)
    assert table.loc["luis", "frequency"] == 1
