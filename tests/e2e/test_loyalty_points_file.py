"""``lealta loyalty assign --points FILE``: tiers by status points from a file, without a store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from lealta.cli.main import app

runner = CliRunner()
AS_OF = "2026-03-01"
PROGRAM = {
    "name": "Points",
    "points": {},
    "tiers": [
        {"name": "Member"},
        {"name": "Gold", "qualify": {"any": [{"orders": 3}, {"points": 500}]}},
    ],
}


def loyalty(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["loyalty", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def files(tmp_path: Path, program: dict[str, object] = PROGRAM) -> tuple[Path, Path]:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "customer_id,order_id,date,amount\n"
        "a,1,2026-01-10,40\nb,2,2026-01-11,40\nc,3,2026-01-12,40\nd,4,2026-01-13,40\n",
        encoding="utf-8",
    )
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump(program), encoding="utf-8")
    return orders, path


def test_points_from_a_file_give_tiers_at_their_boundary(tmp_path: Path) -> None:
    orders, program = files(tmp_path)
    points = tmp_path / "points.csv"
    # a: one short; b: exactly; c: one over; d: not in the file; e: no order
    points.write_text("customer_id,points\na,499\nb,500\nc,501\ne,9000\n", encoding="utf-8")
    out = tmp_path / "tiers.csv"
    code, _stdout, stderr = loyalty(
        "assign", orders, "--program", program, "--points", points, "--as-of", AS_OF, "-o", out,
        "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    table = pd.read_csv(out).set_index("customer_id")
    assert table["tier"].to_dict() == {"a": "Member", "b": "Gold", "c": "Gold", "d": "Member"}
    assert table.loc["a", "progress"] == "2 more orders or 1 more point to Gold"
    assert table.loc["a", "points_365d"] == 499
    assert pd.isna(table.loc["d", "points_365d"])
    assert table.loc["d", "points_to_next"] == 500
    assert table.loc["b", "qualified_by"] == "at least 500 points earned in 365 days"


def test_without_a_points_file_the_command_names_the_rule_and_the_option(tmp_path: Path) -> None:
    orders, program = files(tmp_path)
    code, _stdout, stderr = loyalty("assign", orders, "--program", program, "--as-of", AS_OF)
    assert code != 0
    assert "tiers[Gold].qualify.any[1].points" in stderr
    assert "--points FILE" in stderr


def test_a_points_file_for_a_programme_without_points_rules_is_refused(tmp_path: Path) -> None:
    plain = {
        "name": "Plain",
        "tiers": [{"name": "Member"}, {"name": "Gold", "qualify": {"orders": 3}}],
    }
    orders, program = files(tmp_path, plain)
    points = tmp_path / "points.csv"
    points.write_text("customer_id,points\na,1\n", encoding="utf-8")
    code, _stdout, stderr = loyalty(
        "assign", orders, "--program", program, "--points", points, "--as-of", AS_OF
    )
    assert code != 0
    assert "no points rule" in stderr


def test_a_bad_points_value_names_the_customer_and_the_column(tmp_path: Path) -> None:
    orders, program = files(tmp_path)
    points = tmp_path / "points.csv"
    points.write_text("customer_id,points\na,12\nb,lots\n", encoding="utf-8")
    code, _stdout, stderr = loyalty(
        "assign", orders, "--program", program, "--points", points, "--as-of", AS_OF
    )
    assert code != 0
    assert "customer 'b': points is 'lots'" in stderr


def test_rules_of_several_windows_need_a_column_per_window(tmp_path: Path) -> None:
    two = {
        "name": "Two windows",
        "points": {},
        "tiers": [
            {"name": "Member"},
            {"name": "Silver", "qualify": {"points": 100, "window_days": 90}},
            {"name": "Gold", "qualify": {"points": 500}},
        ],
    }
    orders, program = files(tmp_path, two)
    points = tmp_path / "points.csv"
    points.write_text("customer_id,points\na,600\n", encoding="utf-8")
    code, _stdout, stderr = loyalty(
        "assign", orders, "--program", program, "--points", points, "--as-of", AS_OF
    )
    assert code != 0
    assert "points_90d, points_365d" in stderr
    points.write_text("customer_id,points_90d,points_365d\na,0,600\nb,100,100\n", encoding="utf-8")
    out = tmp_path / "tiers.csv"
    code, _stdout, stderr = loyalty(
        "assign", orders, "--program", program, "--points", points, "--as-of", AS_OF, "-o", out,
        "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    tiers = pd.read_csv(out).set_index("customer_id")["tier"].to_dict()
    assert (tiers["a"], tiers["b"], tiers["c"]) == ("Gold", "Silver", "Member")
