"""``lealta loyalty`` end to end on the R ``rfm`` package's sample orders (995 customers)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lealta.cli.main import app

DATA = Path(__file__).parent.parent / "data"
ORDERS = DATA / "rfm_data_orders.csv.gz"
AS_OF = "2006-12-31"
runner = CliRunner()


def loyalty(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["loyalty", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def genius(tmp_path: Path) -> Path:
    path = tmp_path / "genius.yaml"
    example = resources.files("lealta.loyalty").joinpath("examples/genius.yaml")
    path.write_text(example.read_text("utf-8"), encoding="utf-8")
    return path


def write(tmp_path: Path, name: str, document: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_assign_gives_every_customer_a_row_and_prints_customers_per_tier(
    tmp_path: Path, genius: Path
) -> None:
    out, summary = tmp_path / "tiers.csv", tmp_path / "summary.json"
    code, stdout, stderr = loyalty(
        "assign", ORDERS, "--program", genius, "--as-of", AS_OF, "-o", out,
        "--summary-output", summary,
    )  # fmt: skip
    assert code == 0, stderr
    table = pd.read_csv(out)
    assert len(table) == 995
    assert table.customer_id.is_unique
    assert list(table.columns[:9]) == [
        "customer_id", "email", "name", "r", "f", "m", "score_sum", "tier", "qualified_by",
    ]  # fmt: skip
    assert set(table.tier.dropna()) <= {"Member", "Silver", "Gold", "Platinum"}
    # The eligibility rule of the example: a score sum of 6 or better.
    assert (table.tier.isna() == (table.score_sum < 6)).all()
    # The example's rules, written again in pandas.
    eligible = table.score_sum >= 6
    platinum = (table.orders_730d >= 15) | (table.score_sum.ge(14) & table.spend_365d.ge(2000))
    recent_big = table.r.ge(4) & table.m.ge(5) & table.spend_365d.ge(500)
    gold = (table.orders_730d >= 5) | (table.score_sum >= 12) | recent_big
    silver = table.orders_730d >= 2
    expected = [
        None if not e else "Platinum" if p else "Gold" if g else "Silver" if s else "Member"
        for e, p, g, s in zip(eligible, platinum, gold, silver, strict=True)
    ]
    assert [None if pd.isna(t) else t for t in table.tier] == expected
    silver_rows = table[table.tier == "Silver"]
    assert (silver_rows.orders_to_next == 5 - silver_rows.orders_730d).all()
    assert silver_rows.progress.str.endswith(" to Gold").all()
    per_tier = pd.DataFrame(json.loads(summary.read_text("utf-8"))).set_index("tier")
    assert per_tier.customers.sum() == 995
    assert per_tier.loc["Gold", "customers"] == (table.tier == "Gold").sum()
    assert per_tier.revenue.sum() == pytest.approx(table.revenue.sum())
    assert per_tier.customer_share.sum() == pytest.approx(1.0)
    printed = " ".join(stdout.split())
    assert "Tiers" in printed
    assert f"Gold │ {per_tier.loc['Gold', 'customers']:,} │" in printed
    assert "as of 2006-12-31" in printed


def test_the_scores_are_those_of_lealta_rfm_and_the_windows_count_the_file(
    tmp_path: Path, genius: Path
) -> None:
    tiers, rfm = tmp_path / "tiers.csv", tmp_path / "rfm.csv"
    assert (
        loyalty("assign", ORDERS, "--program", genius, "--as-of", AS_OF, "-o", tiers, "-q")[0] == 0
    )
    result = runner.invoke(app, ["rfm", str(ORDERS), "--as-of", AS_OF, "-o", str(rfm), "-q"])
    assert result.exit_code == 0
    ours = pd.read_csv(tiers).set_index("customer_id")
    theirs = pd.read_csv(rfm).set_index("customer_id").loc[ours.index]
    assert (
        ours[["r", "f", "m"]].to_numpy() == theirs[["r_score", "f_score", "m_score"]].to_numpy()
    ).all()
    orders = pd.read_csv(ORDERS, parse_dates=["order_date"])
    recent = orders[orders.order_date >= pd.Timestamp("2005-12-31")]
    spend = recent.groupby("customer_id").revenue.sum().reindex(ours.index, fill_value=0)
    assert ours.spend_365d.to_numpy() == pytest.approx(spend.to_numpy())


def test_a_programme_in_the_one_is_best_convention_gives_the_same_tiers(tmp_path: Path) -> None:
    def document(best: int) -> dict[str, object]:
        def s(total: int) -> int:  # a score sum written in the programme's convention
            return total if best == 5 else 18 - total

        return {
            "name": f"best {best}",
            "best": best,
            "eligibility": {"score_sum": s(5)},
            "tiers": [
                {"name": "Member"},
                {"name": "Silver", "qualify": {"any": [{"score_sum": s(9)}, {"orders": 3}]}},
                {
                    "name": "Gold",
                    "qualify": {"scores": {"r": 4 if best == 5 else 2, "m": 4 if best == 5 else 2}},
                },
            ],
        }

    outputs = {}
    for best in (5, 1):
        program = write(tmp_path, f"best{best}.yaml", document(best))
        out = tmp_path / f"tiers{best}.csv"
        assert (
            loyalty("assign", ORDERS, "--program", program, "--as-of", AS_OF, "-o", out, "-q")[0]
            == 0
        )
        outputs[best] = pd.read_csv(out)
    five, one = outputs[5], outputs[1]
    pd.testing.assert_series_equal(five.tier, one.tier)
    assert (five.score_sum + one.score_sum == 18).all()
    assert set(five.tier.dropna()) == {"Member", "Silver", "Gold"}


def test_check_says_a_valid_programme_is_valid(genius: Path) -> None:
    code, stdout, _ = loyalty("check", genius)
    assert code == 0
    assert "4 tiers (Member, Silver, Gold, Platinum)" in stdout


def test_check_names_the_tier_and_field_of_a_mistake(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        {
            "name": "Bad",
            "tiers": [{"name": "Member"}, {"name": "Gold", "qualify": {"score_sum": 40}}],
        },
    )
    code, _, stderr = loyalty("check", path)
    assert code == 2
    assert "tiers[Gold].qualify.score_sum: 40 is outside 3..15" in " ".join(stderr.split())
    assert "Traceback" not in stderr


def test_a_missing_programme_file_is_one_clear_message(tmp_path: Path) -> None:
    code, _, stderr = loyalty("assign", ORDERS, "--program", tmp_path / "nope.yaml")
    assert code == 2
    assert "cannot read the programme" in stderr


def test_an_rfmp_programme_needs_the_payment_option(tmp_path: Path) -> None:
    path = write(
        tmp_path, "rfmp.yaml", {"name": "P", "dimensions": "rfmp", "tiers": [{"name": "All"}]}
    )
    code, _, stderr = loyalty("assign", ORDERS, "--program", path)
    assert code == 2
    assert "--payment" in stderr


def test_schema_prints_the_json_schema() -> None:
    code, stdout, _ = loyalty("schema")
    assert code == 0
    schema = json.loads(stdout)
    assert schema["title"] == "LoyaltyProgram"
    assert "tiers" in schema["properties"]


@pytest.mark.parametrize("command", [[], ["assign"], ["check"], ["schema"]])
def test_every_loyalty_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, ["loyalty", *command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
