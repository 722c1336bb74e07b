"""Product affinity on the UCI Online Retail file: Lealta beside a bare DuckDB query and pandas.

All three compute the same thing from the same file: pairs of products (StockCode) bought in
the same invoice, over the lines ``lealta affinity`` keeps (a customer id, an invoice not
starting with C, quantity and unit price above 0; the default analysis date, the day after the
last invoice, leaves no line out), with
items and pairs in at least ``--min-count`` invoices; then support, confidence and lift.

* ``lealta``: :func:`lealta.affinity.lines.read_lines` (column detection, typed cleaning, the
  reasons for every left-out line) and :func:`lealta.affinity.pairs.together`, run on DuckDB;
* ``duckdb``: the floor, one SQL statement (read, filter, self-join, count) on a fresh
  in-process DuckDB with the same settings;
* ``pandas``: what a notebook writes: ``read_csv``, filters, ``drop_duplicates``, a self
  ``merge`` on the invoice, ``groupby().size()``.

Each runs in-process on a fresh connection, ``--repeat`` times; the best wall time is shown
with the number of pairs and whether the pairs and their lift agree with Lealta's.

    .venv/bin/python benchmarks/affinity.py ../shared/data/online_retail.csv.gz
    .venv/bin/python benchmarks/affinity.py FILE --min-count 10 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

DEFAULT_FILE = Path(__file__).resolve().parent.parent.parent / "shared/data/online_retail.csv.gz"


def run_lealta(path: Path, min_count: int) -> pd.DataFrame:
    from lealta.affinity.lines import read_lines
    from lealta.affinity.options import AffinityOptions
    from lealta.affinity.pairs import together
    from lealta.engines import connect

    engine = connect("duckdb")
    options = AffinityOptions(by="product", min_count=min_count)
    lines = read_lines(engine, path, options)
    return engine.execute(together(lines.table, options))


FLOOR_SQL = """
WITH lines AS (
    SELECT trim(CustomerID) AS customer, InvoiceNo AS invoice, StockCode AS item
    FROM read_csv(?, all_varchar = true, header = true)
    WHERE CustomerID IS NOT NULL AND trim(CustomerID) <> ''
      AND NOT regexp_matches(InvoiceNo, '^[Cc][0-9]')
      AND TRY_CAST(Quantity AS DOUBLE) > 0 AND TRY_CAST(UnitPrice AS DOUBLE) > 0
      AND StockCode IS NOT NULL AND trim(StockCode) <> ''
),
held AS (SELECT DISTINCT customer, invoice, trim(item) AS item FROM lines),
baskets AS (SELECT count(*) AS n FROM (SELECT DISTINCT customer, invoice FROM held)),
items AS (SELECT item, count(*) AS n_item FROM held GROUP BY item HAVING count(*) >= ?),
kept AS (SELECT held.* FROM held JOIN items USING (item)),
pairs AS (
    SELECT a.item AS item_a, b.item AS item_b, count(*) AS n_ab
    FROM kept a JOIN kept b
      ON a.customer = b.customer AND a.invoice = b.invoice AND a.item <> b.item
    GROUP BY 1, 2 HAVING count(*) >= ?
)
SELECT item_a, item_b, n_ab, ia.n_item AS n_a, ib.n_item AS n_b, baskets.n,
       n_ab / baskets.n AS support, n_ab / ia.n_item AS confidence,
       n_ab * baskets.n / (ia.n_item * ib.n_item) AS lift
FROM pairs JOIN items ia ON ia.item = item_a JOIN items ib ON ib.item = item_b, baskets
"""


def run_duckdb(path: Path, min_count: int) -> pd.DataFrame:
    from lealta.engines import connect

    con = connect("duckdb").con.con  # the same settings Lealta uses, SQL straight to DuckDB
    frame: pd.DataFrame = con.execute(FLOOR_SQL, [str(path), min_count, min_count]).df()
    return frame


def run_pandas(path: Path, min_count: int) -> pd.DataFrame:
    usecols = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    lines = pd.read_csv(path, usecols=usecols, dtype=str, encoding="utf-8")
    quantity = pd.to_numeric(lines.Quantity, errors="coerce")
    price = pd.to_numeric(lines.UnitPrice, errors="coerce")
    customer = lines.CustomerID.str.strip()
    keep = (
        customer.notna()
        & (customer != "")
        & ~lines.InvoiceNo.str.match(r"^[Cc][0-9]")
        & (quantity > 0)
        & (price > 0)
        & lines.StockCode.notna()
    )
    held = pd.DataFrame(
        {
            "customer": customer[keep],
            "invoice": lines.InvoiceNo[keep],
            "item": lines.StockCode[keep].str.strip(),
        }
    ).drop_duplicates()
    n = len(held[["customer", "invoice"]].drop_duplicates())
    counts = held.groupby("item").size()
    counts = counts[counts >= min_count]
    held = held[held.item.isin(counts.index)]
    both = held.merge(held, on=["customer", "invoice"], suffixes=("_a", "_b"))
    both = both[both.item_a != both.item_b]
    pairs = both.groupby(["item_a", "item_b"]).size().rename("n_ab").reset_index()
    pairs = pairs[pairs.n_ab >= min_count]
    pairs["n_a"] = pairs.item_a.map(counts).to_numpy()
    pairs["n_b"] = pairs.item_b.map(counts).to_numpy()
    pairs["n"] = n
    pairs["support"] = pairs.n_ab / n
    pairs["confidence"] = pairs.n_ab / pairs.n_a
    pairs["lift"] = pairs.n_ab * n / (pairs.n_a * pairs.n_b)
    return pairs


TOOLS: dict[str, Callable[[Path, int], pd.DataFrame]] = {
    "lealta": run_lealta,
    "duckdb": run_duckdb,
    "pandas": run_pandas,
}


def agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> str:
    """Whether two pair tables hold the same pairs with the same counts and lift."""
    keys = ["item_a", "item_b"]
    merged = ours.merge(theirs, on=keys, how="outer", suffixes=("", "_t"), indicator=True)
    only = int((merged["_merge"] != "both").sum())
    if only:
        return f"{only:,} pairs differ"
    counts = (merged.n_ab == merged.n_ab_t).all() and (merged.n == merged.n_t).all()
    lift = float((merged.lift - merged.lift_t).abs().max()) if len(merged) else 0.0
    return "same pairs, counts and lift" if counts and lift < 1e-9 else f"lift off by {lift:.2g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--min-count", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"{args.file}: no such file (the UCI Online Retail CSV)", file=sys.stderr)
        return 1
    results: dict[str, tuple[float, pd.DataFrame]] = {}
    for name, tool in TOOLS.items():
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            frame = tool(args.file, args.min_count)
            best = min(best, time.perf_counter() - start)
        results[name] = (best, frame)
    ours = results["lealta"][1]
    print(f"{args.file.name}: product pairs in one invoice, at least {args.min_count} invoices")
    print(f"{'tool':<8} {'seconds':>8} {'pairs':>9}  agreement with lealta")
    for name, (seconds, frame) in results.items():
        verdict = "-" if name == "lealta" else agreement(ours, frame)
        print(f"{name:<8} {seconds:>8.2f} {len(frame):>9,}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
