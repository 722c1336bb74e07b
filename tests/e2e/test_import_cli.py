"""``lealta import`` and ``lealta rfm --from-store`` end to end, on a SQLite store."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.config import get_settings

DATA = Path(__file__).parent.parent / "data"
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``LEALTA_DATABASE_URL`` pointing at a fresh SQLite file for the command."""
    url = f"sqlite:///{tmp_path / 'lealta.db'}"
    monkeypatch.setenv("LEALTA_DATABASE_URL", url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def lealta(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


BAD_ORDERS = """order_id,customer_id,email,date,total,currency
A1,c1,ana@example.com,2025-01-05,10.00,EUR
A2,,,2025-01-06,5.00,EUR
A3,c3,not-an-email,2025-01-06,5.00,EUR
A4,c4,,yesterday,5.00,EUR
A5,c5,,2025-01-07,-4,EUR
A6,c6,,2025-01-07,ten,EUR
A7,c7,,2025-01-07,1.00,EURO
A1,c1,ana@example.com,2025-01-05,10.00,EUR
A1,c1,ana@example.com,2025-01-05,99.00,EUR
B1,c2,,2025-01-08,7.50,usd
"""


def test_bad_rows_are_reported_with_their_lines_and_good_rows_kept(
    store: str, tmp_path: Path
) -> None:
    path, rejects = tmp_path / "orders.csv", tmp_path / "rejects.csv"
    path.write_text(BAD_ORDERS)
    code, _, stderr = lealta("import", "orders", path, "--rejects", rejects)
    assert code == 3
    assert "Rejected rows" in stderr
    table = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert list(table.columns[:3]) == ["line", "field", "reason"]
    assert list(zip(table.line.astype(int), table.field, strict=True)) == [
        (3, "customer_id"), (4, "email"), (5, "date"), (6, "total"), (7, "total"),
        (8, "currency"), (10, "order_id"),
    ]  # fmt: skip
    lines = path.read_text().splitlines()
    for row in table.itertuples():
        assert lines[int(row.line) - 1].split(",")[0] == row.order_id  # the row as read
    assert "different content" in table.reason.iloc[-1]
    assert "line 2" in table.reason.iloc[-1]
    orders = query(store, "SELECT external_id, amount, currency FROM orders ORDER BY external_id")
    assert [(o[0], float(o[1]), o[2]) for o in orders] == [("A1", 10.0, "EUR"), ("B1", 7.5, "USD")]


def test_importing_the_same_file_again_adds_nothing(store: str, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("Customer ID,E-mail,First Name,City\nc1,ana@example.com,Ana,Madrid\nc2,,Ben,\n")
    assert lealta("import", "contacts", path)[0] == 0
    counts = "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM events)"
    first = query(store, counts)
    code, _, stderr = lealta("import", "contacts", path)
    assert code == 0
    assert "+0 contacts" in stderr
    assert query(store, counts) == first
    assert first[0][0] == 2


def test_a_dry_run_checks_without_writing(store: str, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text('type,event,userId,properties\ntrack,Viewed,u1,"{""a"": 1}"\nbogus,X,u2,\n')
    code, _, stderr = lealta("import", "events", path, "--dry-run")
    assert code == 3
    assert "dry run" in stderr
    assert not (tmp_path / "lealta.db").exists()


def test_a_file_that_cannot_be_imported_exits_with_2(store: str, tmp_path: Path) -> None:
    assert lealta("import", "orders", tmp_path / "absent.csv")[0] == 2
    no_amount = tmp_path / "orders.csv"
    no_amount.write_text("order_id,email,date\nA1,a@b.co,2025-01-01\n")
    code, _, stderr = lealta("import", "orders", no_amount)
    assert code == 2
    assert "amount" in stderr
    code, _, stderr = lealta("import", "orders", no_amount, "--date-column", "when")
    assert code == 2
    assert "'when'" in stderr


def test_every_import_command_has_help() -> None:
    for kind in ("contacts", "orders", "events"):
        code, stdout, _ = lealta("import", kind, "--help")
        assert code == 0
        assert "--rejects" in stdout
        assert "--dry-run" in stdout


def uci_prefix(tmp_path: Path, rows: int = 9000) -> Path:
    """The first ``rows`` rows of the UCI Online Retail sample (lines of ~400 invoices)."""
    with gzip.open(DATA / "online_retail_sample.csv.gz", "rt", encoding="utf-8") as source:
        head = [next(source) for _ in range(rows + 1)]
    path = tmp_path / "online_retail.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as target:
        target.writelines(head)
    return path


def test_uci_lines_imported_as_orders_score_as_the_file_does(store: str, tmp_path: Path) -> None:
    path = uci_prefix(tmp_path)
    rejects = tmp_path / "rejects.csv"
    code, _, stderr = lealta("import", "orders", path, "--rejects", rejects)
    assert code == 3, stderr  # cancellations and rows without a customer are rejected
    dropped = pd.read_csv(rejects, dtype=str)
    assert set(dropped.field) == {"Quantity", "CustomerID"}
    assert dropped[dropped.field == "Quantity"].InvoiceNo.str.startswith("C").all()

    from_store, from_file = tmp_path / "store.csv", tmp_path / "file.csv"
    code, _, stderr = lealta("rfm", "--from-store", "-o", from_store, "-q")
    assert code == 0, stderr
    assert lealta("rfm", path, "-o", from_file, "-q")[0] == 0

    users = pd.DataFrame(
        query(store, "SELECT contact_id, value FROM identifiers WHERE kind = 'user_id'"),
        columns=["contact_id", "user_id"],
    )
    mine = pd.read_csv(from_store, dtype={"customer_id": str}).merge(
        users, left_on="customer_id", right_on="contact_id"
    )
    theirs = pd.read_csv(from_file, dtype={"customer_id": str})
    both = mine.merge(theirs, left_on="user_id", right_on="customer_id", suffixes=("", "_file"))
    assert len(both) == len(mine) == len(theirs) > 100
    for column in ("recency", "frequency", "r_score", "f_score", "m_score", "segment"):
        assert (both[column] == both[f"{column}_file"]).all(), column
    assert (both.monetary - both.monetary_file).abs().max() < 0.005

    saved = pd.DataFrame(
        query(store, "SELECT contact_id, segment, code FROM contact_rfm"),
        columns=["contact_id", "segment", "code"],
    )
    check = saved.merge(mine, left_on="contact_id", right_on="customer_id")
    assert len(check) == len(mine)
    assert (check.segment_x == check.segment_y).all()
    assert (check.code == check.rfm_code.astype(str)).all()


def test_rfm_needs_a_file_or_the_store_but_not_both(store: str, tmp_path: Path) -> None:
    code, _, stderr = lealta("rfm")
    assert code == 2
    assert "--from-store" in stderr
    code, _, stderr = lealta("rfm", "--from-store")
    assert code == 2
    assert "no orders" in stderr
    code, _, stderr = lealta("rfm", tmp_path / "x.csv", "--from-store")
    assert code == 2


def test_rejects_file_of_json_lines_holds_the_record(store: str, tmp_path: Path) -> None:
    path, rejects = tmp_path / "events.jsonl", tmp_path / "rejects.csv"
    path.write_text('{"event": "Viewed", "userId": "u1"}\n{"event": "Viewed"}\n')
    assert lealta("import", "events", path, "--rejects", rejects)[0] == 3
    rows = list(csv.DictReader(io.StringIO(rejects.read_text())))
    assert [(r["line"], r["field"]) for r in rows] == [("2", "userId")]
    assert rows[0]["record"] == '{"event":"Viewed"}'


def test_rfm_from_store_reviews_the_loyalty_tiers_of_the_programme_in_force(
    store: str, tmp_path: Path
) -> None:
    path = uci_prefix(tmp_path)
    lealta("import", "orders", path)
    program = Path(__file__).parents[2] / "src/lealta/loyalty/examples/genius.yaml"
    code, _, stderr = lealta("loyalty", "import", program)
    assert code == 0, stderr
    code, _, stderr = lealta("rfm", "--from-store", "-o", tmp_path / "scores.csv")
    assert code == 0, stderr
    assert "loyalty tiers reviewed:" in stderr
    [(members,)] = query(store, "SELECT count(*) FROM contact_tiers")
    [(scored,)] = query(store, "SELECT count(*) FROM contact_rfm")
    assert 0 < members <= scored
