"""Option values: plain ones are read without pydantic, the rest as typer reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from lealta.cli.main import app

ORDERS = "order_id,customer_id,order_date,amount\no1,c1,2024-01-02,10\no2,c2,2024-02-03,20\n"


def test_an_rfm_run_with_plain_values_never_imports_pydantic(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from lealta.cli.main import app\n"
        "args = ['rfm', 'orders.csv', '--output', 'out.parquet', '--quiet']\n"
        "result = CliRunner().invoke(app, args)\n"
        "assert result.exit_code == 0, result.output\n"
        "print('pydantic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert (tmp_path / "out.parquet").exists()


def test_given_values_are_read_and_checked_as_before(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS)
    out = tmp_path / "out.csv"
    args = ["rfm", str(orders), "--output", str(out), "--quiet", "--bins", "4", "--purchase", "day"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("customer_id,")
    for option, value, error in (
        ("--bins", "11", "Input should be less than or equal to 10"),
        ("--bins", "x", "Input should be a valid integer"),
        ("--purchase", "week", "'week' is not one of 'order', 'day', 'row'"),
    ):
        result = CliRunner().invoke(app, ["rfm", str(orders), option, value])
        assert result.exit_code == 2
        words = " ".join(result.output.replace("│", " ").split())
        assert f"Invalid value for '{option}': " in words
        assert error in words
