"""``lealta cluster`` and ``lealta segments`` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import lealta
from lealta.cli.main import app

DATA = Path(__file__).parent.parent / "data"
ORDERS = DATA / "rfm_data_orders.csv.gz"
runner = CliRunner()


def test_cluster_writes_labels_and_named_profiles(tmp_path: Path) -> None:
    out, profiles = tmp_path / "clusters.csv", tmp_path / "profiles.csv"
    result = runner.invoke(
        app, ["cluster", str(ORDERS), "--k", "3", "-o", str(out), "--profiles", str(profiles)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert set(table.cluster) == {0, 1, 2}
    profile = pd.read_csv(profiles)
    assert len(profile) == 3
    assert profile.name.is_unique
    assert profile.revenue_share.sum() == pytest.approx(1.0)
    by_cluster = table.groupby("cluster").cluster_name.nunique()
    assert (by_cluster == 1).all()


def test_clusters_are_reproducible_with_the_same_seed(tmp_path: Path) -> None:
    first = lealta.cluster(ORDERS, seed=7)
    second = lealta.cluster(ORDERS, seed=7)
    assert first.cluster.tolist() == second.cluster.tolist()
    assert first.attrs["lealta"]["k"] in range(2, 9)
    assert set(first.attrs["lealta"]["silhouette"]) == set(range(2, 9))


def test_cluster_accepts_an_rfm_table() -> None:
    scores = lealta.rfm(ORDERS)
    clustered = lealta.cluster(scores, k=2)
    assert len(clustered) == len(scores)
    assert clustered.cluster.isin([0, 1]).all()


def test_a_bad_k_is_one_clear_message() -> None:
    result = runner.invoke(app, ["cluster", str(ORDERS), "--k", "many"])
    assert result.exit_code == 2
    assert "'auto' or a number" in result.stderr


def test_segment_export_lists_ids_emails_and_names(tmp_path: Path) -> None:
    table = tmp_path / "rfm.csv"
    assert runner.invoke(app, ["rfm", str(ORDERS), "-o", str(table), "-q"]).exit_code == 0
    out = tmp_path / "at_risk.csv"
    result = runner.invoke(
        app, ["segments", "export", str(table), "--segment", "At Risk", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    exported = pd.read_csv(out)
    assert list(exported.columns[:3]) == ["customer_id", "email", "name"]
    assert set(exported.segment) == {"At Risk"}
    scores = pd.read_csv(table)
    assert len(exported) == (scores.segment == "At Risk").sum()


def test_segment_export_works_straight_from_orders(tmp_path: Path) -> None:
    out = tmp_path / "champions.json"
    result = runner.invoke(
        app, ["segments", "export", str(ORDERS), "-s", "Champions", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_json(out)) > 0


def test_an_unknown_segment_lists_the_known_ones(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["segments", "export", str(ORDERS), "-s", "Chamipons", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert "Champions" in result.stderr


def test_segments_show_reports_full_coverage() -> None:
    result = runner.invoke(app, ["segments", "show"])
    assert result.exit_code == 0
    assert "125 of 125" in result.stdout
    pymc = runner.invoke(app, ["segments", "show", "--preset", "pymc"])
    assert "46 of 64" in pymc.stdout


def test_clusters_with_groups_label_every_row(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA / "online_retail_sample.csv.gz", dtype=str)
    out = tmp_path / "grouped.csv"
    result = runner.invoke(
        app,
        [
            "rfm", str(DATA / "online_retail_sample.csv.gz"), "--group", "Country",
            "--clusters", "2", "-o", str(out), "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"customer_id": str})
    assert table.cluster.notna().all()
    assert set(table.Country) <= set(frame.Country)
    assert not table.duplicated(["Country", "customer_id"]).any()
