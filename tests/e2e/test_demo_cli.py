"""``lealta demo-data`` end to end: every format written and read back, bad options refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from lealta.cli.demo import demo_data
from lealta.demo.shop import SCHEMA, generate_orders

CUSTOMERS = 40


def lealta(*args: str) -> Result:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("demo-data")(demo_data)

    @app.callback()
    def root() -> None:
        """A stand-in for the lealta root command."""

    return CliRunner().invoke(app, ["demo-data", *args])


@pytest.fixture(scope="module")
def expected() -> pa.Table:
    return generate_orders(customers=CUSTOMERS, seed=11)


def written(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    result = lealta(str(path), "--customers", str(CUSTOMERS), "--seed", "11")
    assert result.exit_code == 0, result.output
    assert f"of {CUSTOMERS} customers to {path}" in result.stdout
    return path


@pytest.mark.parametrize("name", ["orders.csv", "orders.csv.gz"])
def test_csv_reads_back_as_the_generated_table(
    tmp_path: Path, name: str, expected: pa.Table
) -> None:
    path = written(tmp_path, name)
    types = pacsv.ConvertOptions(column_types=dict(zip(SCHEMA.names, SCHEMA.types, strict=True)))
    assert pacsv.read_csv(path, convert_options=types).equals(expected)


def test_csv_writes_dates_and_times_as_iso_text(tmp_path: Path) -> None:
    header, first = written(tmp_path, "orders.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert header.startswith('"order_id","customer_id","email"')
    assert re.search(r",2024-01-0\d \d\d:\d\d:\d\d,", first)
    assert re.search(r",2024-\d\d-\d\d,2024-\d\d-\d\d,", first)


def test_parquet_reads_back_as_the_generated_table(tmp_path: Path, expected: pa.Table) -> None:
    table = pq.read_table(written(tmp_path, "orders.parquet"))
    assert table.cast(SCHEMA).equals(expected)  # Parquet keeps times in ms, not s


def test_jsonl_holds_one_order_per_line(tmp_path: Path, expected: pa.Table) -> None:
    lines = written(tmp_path, "orders.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == expected.num_rows
    first, want = json.loads(lines[0]), expected.slice(0, 1).to_pylist()[0]
    assert list(first) == SCHEMA.names
    assert first["order_id"] == want["order_id"]
    assert first["amount"] == want["amount"]
    assert first["order_date"] == want["order_date"].strftime("%Y-%m-%d %H:%M:%S")
    assert first["paid_date"] == want["paid_date"].isoformat()


def test_xlsx_holds_a_header_and_one_order_per_row(tmp_path: Path, expected: pa.Table) -> None:
    book = load_workbook(written(tmp_path, "orders.xlsx"), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert list(rows[0]) == SCHEMA.names
    assert len(rows) == expected.num_rows + 1
    want = expected.slice(0, 1).to_pylist()[0]
    assert dict(zip(SCHEMA.names, rows[1], strict=True))["order_date"] == want["order_date"]
    assert rows[1][0] == want["order_id"]


def test_without_a_size_five_thousand_customers_are_written(tmp_path: Path) -> None:
    result = lealta(str(tmp_path / "orders.parquet"))
    assert result.exit_code == 0, result.output
    assert "of 5,000 customers" in result.stdout
    assert pq.read_metadata(tmp_path / "orders.parquet").num_rows > 40_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "5", "--orders", "50"], "either --customers or --orders"),
        (["--customers", "0"], "--customers must be a positive number"),
        (["--orders", "-3"], "--orders must be a positive number"),
        (["--seed", "-1"], "--seed must not be negative"),
        (["--start", "2025-02-01", "--end", "2025-01-01"], "is after --end"),
        (["--orders", "1048576"], "do not fit in an Excel sheet"),
    ],
)
def test_bad_options_exit_with_2_and_one_clear_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = lealta(str(tmp_path / "orders.xlsx"), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("orders.txt", "use one of .csv, .csv.gz"), ("missing/orders.csv", "does not exist")],
)
def test_a_bad_target_file_exits_with_2(tmp_path: Path, name: str, message: str) -> None:
    result = lealta(str(tmp_path / name), "--orders", "10")
    assert result.exit_code == 2
    assert message in result.stderr


def test_importing_the_command_loads_neither_numpy_nor_pyarrow() -> None:
    code = "import sys, lealta.cli.demo; print(sorted({'numpy', 'pyarrow'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]"
