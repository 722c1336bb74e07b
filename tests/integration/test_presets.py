"""--preset r-rfm and --preset pymc reproduce the other tools exactly on the same data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import lealta

DATA = Path(__file__).parent.parent / "data"
ORDERS = DATA / "rfm_data_orders.csv.gz"


def expected(name: str) -> pd.DataFrame:
    return pd.read_csv(
        DATA / name, keep_default_na=False, dtype={"customer_id": str, "rfm_score": str}
    ).set_index("customer_id")


@pytest.fixture(scope="module")
def r_rfm() -> pd.DataFrame:
    return lealta.rfm(ORDERS, preset="r-rfm").set_index("customer_id")


@pytest.fixture(scope="module")
def pymc() -> pd.DataFrame:
    return lealta.rfm(ORDERS, preset="pymc").set_index("customer_id")


def test_r_rfm_matches_every_customer_of_the_r_package(r_rfm: pd.DataFrame) -> None:
    want = expected("r_rfm_0.3.0_expected.csv")
    got = r_rfm.loc[want.index]
    assert (got.recency == want.recency_days).all()
    assert (got.frequency == want.transaction_count).all()
    assert (got.monetary == want.amount).all()
    assert (got.r_score == want.recency_score).all()
    assert (got.f_score == want.frequency_score).all()
    assert (got.m_score == want.monetary_score).all()
    assert (got.rfm_code == want.rfm_score).all()
    assert (got.segment == want.segment).all()


def test_r_rfm_reproduces_the_vignette_rows(r_rfm: pd.DataFrame) -> None:
    vignette = {
        "Abbey O'Reilly": (205, 6, 472, "343", "Potential Loyalist"),
        "Add Senger": (140, 3, 340, "412", "New Customers"),
        "Aden Lesch": (194, 4, 405, "323", "Loyal Customers"),
        "Aden Murphy": (98, 7, 596, "544", "Potential Loyalist"),
        "Agness O'Keefe": (90, 9, 843, "555", "Champions"),
        "Aiyanna Bruen": (246, 4, 157, "321", "About To Sleep"),
    }
    for customer, row in vignette.items():
        got = r_rfm.loc[customer]
        assert (got.recency, got.frequency, got.monetary, got.rfm_code, got.segment) == row


def test_r_rfm_segment_summary_matches_the_vignette(r_rfm: pd.DataFrame) -> None:
    summary = r_rfm.groupby("segment").agg(
        customers=("frequency", "size"), revenue=("revenue", "sum")
    )
    assert summary.loc["Potential Loyalist"].tolist() == [342, 204856]
    assert summary.loc["About To Sleep"].tolist() == [102, 23449]
    assert summary.customers.sum() == 995
    assert "Others" not in summary.index


def test_r_rfm_with_the_packages_older_segment_order_matches_its_unit_test(tmp_path: Path) -> None:
    rules = [
        ("Champions", 4, 5, 4, 5, 4, 5), ("Loyal Customers", 2, 5, 3, 5, 3, 5),
        ("Potential Loyalist", 3, 5, 1, 3, 1, 3), ("New Customers", 4, 5, 1, 1, 1, 1),
        ("Promising", 3, 4, 1, 1, 1, 1), ("Need Attention", 2, 3, 2, 3, 2, 3),
        ("About To Sleep", 2, 3, 1, 2, 1, 2), ("At Risk", 1, 2, 2, 5, 2, 5),
        ("Can't Lose Them", 1, 1, 4, 5, 4, 5), ("Lost", 1, 2, 1, 2, 1, 2),
    ]  # fmt: skip
    lines = ["name: rfm test map", "default: Others", "segments:"]
    for name, rl, ru, fl, fu, ml, mu in rules:
        lines.append(f'  - {{name: "{name}", r: [{rl}, {ru}], f: [{fl}, {fu}], m: [{ml}, {mu}]}}')
    path = tmp_path / "map.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = lealta.rfm(ORDERS, preset="r-rfm", segments=path)
    champions = result[result.segment == "Champions"]
    assert (len(champions), champions.orders.sum(), champions.revenue.sum()) == (158, 1234, 120178)


def test_pymc_matches_every_customer_of_pymc_marketing(pymc: pd.DataFrame) -> None:
    want = expected("pymc_rfm_segments_expected.csv")
    got = pymc.loc[want.index]
    assert (got.frequency == want.frequency).all()
    assert (got.recency == want.recency).all()
    assert (got.monetary == want.monetary_value).all()
    assert (got.rfm_code == want.rfm_score).all()
    assert (got.segment == want.segment).all()


def test_pymc_reproduces_its_test_fixture() -> None:
    rows = [
        (1, "2015-01-01", 1), (1, "2015-02-06", 2), (2, "2015-01-01", 2), (3, "2015-01-01", 3),
        (3, "2015-01-02", 1), (3, "2015-01-05", 5), (4, "2015-01-16", 6), (4, "2015-02-02", 3),
        (4, "2015-02-05", 3), (4, "2015-02-05", 6), (5, "2015-01-16", 3), (5, "2015-01-17", 1),
        (5, "2015-01-18", 8), (6, "2015-02-02", 5),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["identifier", "date", "monetary_value"])
    result = lealta.rfm(
        frame, preset="pymc", columns={"customer": "identifier", "amount": "monetary_value"}
    ).set_index("customer_id")
    assert result.rfm_code.to_dict() == {
        "1": "421", "2": "111", "3": "132", "4": "434", "5": "233", "6": "314"
    }  # fmt: skip
    assert result.segment.tolist() == [
        "Other", "Inactive Customer", "At Risk Customer", "Premium Customer",
        "Repeat Customer", "Top Spender",
    ]  # fmt: skip
    assert result.loc["4", "monetary"] == 6.0
    assert result.loc["2", "recency"] == 36


def test_pymc_on_too_few_distinct_values_warns_like_pymc_marketing() -> None:
    rows = [
        (1, "2015-01-01", 1), (1, "2015-02-06", 2), (2, "2015-01-01", 2), (3, "2015-01-02", 1),
        (3, "2015-01-05", 3), (4, "2015-01-16", 4), (4, "2015-02-05", 5), (5, "2015-01-17", 1),
        (5, "2015-01-18", 2), (5, "2015-01-19", 2),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    result = lealta.rfm(frame, preset="pymc").set_index("customer_id")
    assert result.rfm_code.to_dict() == {"1": "411", "2": "112", "3": "212", "4": "413", "5": "321"}
    assert any("frequency scores will not exceed 2" in n for n in result.attrs["lealta"]["notes"])
