"""Predicted customer value at scale: ``lealta clv`` against pymc-marketing used directly.

Synthetic orders drawn from the BG/NBD story itself (a purchase rate per customer from a gamma
distribution, a chance to drop out after each purchase from a beta distribution, spend per
purchase from a gamma distribution) are written once to Parquet: by default 1M customers and
about 10M orders over two years. Two processes then each go from that file to scored
customers:

- ``lealta``: ``lealta clv FILE -o OUT.parquet --quiet`` (reading, cleaning, the summary in
  DuckDB, BG/NBD and Gamma-Gamma fits, P(alive), expected purchases and spend, 90-day CLV,
  churn bands, standard errors, writing);
- ``library``: the floor, what pymc-marketing's documentation does: ``pandas.read_parquet``,
  the library's own ``rfm_summary``, ``BetaGeoModel`` and ``GammaGammaModel`` fitted by MAP,
  ``expected_probability_alive``, ``expected_purchases``, ``expected_customer_spend`` and
  ``expected_customer_lifetime_value`` (3 months), ``to_parquet``.

Interpreter start-up and imports count for both. The target (issue 15): Lealta under two
minutes. Usage: ``python benchmarks/clv.py [CUSTOMERS] [--data-dir DIR] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SEED = 7
TARGET_SECONDS = 120.0
DAYS = 730
START = "2024-01-01"

LIBRARY_SCRIPT = """
import sys, time, warnings
warnings.simplefilter("ignore")
started = time.perf_counter()
import pandas as pd
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
from pymc_marketing.clv.utils import rfm_summary

source, target = sys.argv[1], sys.argv[2]
marks = {"import": time.perf_counter() - started}
orders = pd.read_parquet(source, columns=["customer_id", "order_date", "amount"])
orders["order_date"] = orders["order_date"].dt.normalize()
data = rfm_summary(orders, "customer_id", "order_date", "amount", time_unit="W")
marks["summary"] = time.perf_counter() - started
flat = {name: Prior("HalfFlat") for name in ("r", "alpha", "a", "b")}
bg = BetaGeoModel(data=data[["customer_id", "frequency", "recency", "T"]], model_config=flat)
bg.fit(method="map", progressbar=False)
repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
gg = GammaGammaModel(data=repeat[["customer_id", "frequency", "monetary_value"]])
gg.fit(method="map", progressbar=False)
marks["fit"] = time.perf_counter() - started
out = data.copy()
draws = ("chain", "draw")
out["p_alive"] = bg.expected_probability_alive(data).mean(draws).values
out["expected_purchases"] = bg.expected_purchases(data, future_t=90 / 7).mean(draws).values
out["expected_spend"] = gg.expected_customer_spend(data).mean(draws).values
clv = gg.expected_customer_lifetime_value(bg, data.copy(), future_t=3, time_unit="W")
out["clv"] = clv.mean(draws).values
marks["score"] = time.perf_counter() - started
out.to_parquet(target, index=False)
marks["write"] = time.perf_counter() - started
print(" ".join(f"{k}={v:.1f}" for k, v in marks.items()))
"""


def generate(path: Path, customers: int) -> int:
    """Orders of ``customers`` customers from the BG/NBD story; returns the number of orders."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    rate = rng.gamma(0.9, 1 / 30.0, customers)  # purchases per day while alive
    dropout = rng.beta(1.0, 14.0, customers)  # chance to leave after each purchase
    first = rng.integers(0, DAYS // 2, customers)
    spend_scale = rng.gamma(4.0, 8.0, customers)
    purchases = np.minimum(rng.geometric(dropout), 200)  # purchases before leaving
    owner = np.repeat(np.arange(customers), purchases)
    gaps = rng.exponential(1.0, owner.size) / rate[owner]
    starts = np.cumsum(purchases) - purchases
    gaps[starts] = 0.0  # the first purchase is on the first day
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[starts], purchases)
    day = first[owner] + elapsed
    keep = day < DAYS
    owner, day = owner[keep], day[keep].astype("int64")
    amount = np.round(rng.gamma(3.0, 1.0, owner.size) * spend_scale[owner], 2) + 1.0
    start = np.datetime64(START, "s")
    seconds = day * 86_400 + rng.integers(8 * 3600, 22 * 3600, owner.size)
    table = pa.table(
        {
            "order_id": np.arange(owner.size),
            "customer_id": owner,
            "order_date": start + seconds.astype("timedelta64[s]"),
            "amount": amount,
        }
    )
    pq.write_table(table, path)
    return int(owner.size)


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall-clock and CPU (user + system) seconds of one process, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", nargs="?", type=lambda s: int(float(s.replace("_", ""))),
                        default=1_000_000)  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "lealta-bench"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    source = args.data_dir / f"clv-{args.customers}-{SEED}.parquet"
    if not source.exists():
        started = time.perf_counter()
        orders = generate(source, args.customers)
        print(f"data: {orders:,} orders of {args.customers:,} customers in "
              f"{time.perf_counter() - started:.1f} s -> {source}")  # fmt: skip
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as work:
        out = Path(work)
        lealta_s, lealta_cpu, _ = timed([str(bin_dir / "lealta"), "clv", str(source), "-o",
                             str(out / "lealta.parquet"), "--quiet"])  # fmt: skip
        script = out / "library.py"
        script.write_text(textwrap.dedent(LIBRARY_SCRIPT))
        library_s, library_cpu, marks = timed([sys.executable, str(script), str(source),
                                  str(out / "library.parquet")])  # fmt: skip
        import pandas as pd

        ours = pd.read_parquet(out / "lealta.parquet")
        theirs = pd.read_parquet(out / "library.parquet")
    print(f"customers: lealta {len(ours):,}, library {len(theirs):,}")
    print(f"{'tool':<10}{'seconds':>10}{'cpu s':>10}")
    print(f"{'lealta':<10}{lealta_s:>10.1f}{lealta_cpu:>10.1f}")
    print(f"{'library':<10}{library_s:>10.1f}{library_cpu:>10.1f}   ({marks}; cumulative s)")
    verdict = "PASS" if lealta_s < TARGET_SECONDS else "MISS"
    print(
        f"target: lealta under {TARGET_SECONDS:.0f} s: {verdict} (wall; on a busy machine "
        f"the CPU figure says more: {lealta_cpu:.1f} s, "
        f"{'under' if lealta_cpu < TARGET_SECONDS else 'over'} the target)"
    )
    print(f"lealta / library: {lealta_s / library_s:.2f} wall, "
          f"{lealta_cpu / library_cpu:.2f} CPU")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({
            "customers": args.customers, "lealta_seconds": lealta_s,
            "library_seconds": library_s, "library_marks": marks, "cpus": os.cpu_count(),
            "lealta_cpu_seconds": lealta_cpu, "library_cpu_seconds": library_cpu,
        }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
