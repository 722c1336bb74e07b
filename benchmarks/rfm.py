"""End-to-end RFM benchmark: Lealta's CLI against tutorial pandas and a bare DuckDB floor.

Each tool runs as its own process from the same order file to a per-customer Parquet file, so
interpreter start-up, imports, parsing and writing all count, as they do for a user. See
benchmarks/README.md for what the columns mean and where the targets come from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SEED = 7
QUICK_ORDERS = 20_000
MB = 1_000_000  # decimal megabytes, so that "under 1 GB" means under 1000 MB
TIME_BIN = "/usr/bin/time"
BUSY_SHARE = 0.10  # other processes using this share of the CPUs make wall times unreliable

# Targets from the performance issue.
LEALTA_VS_FLOOR_MAX = 1.5
PANDAS_VS_LEALTA_MIN = 8.0
LEALTA_PEAK_MB_MAX = 1000.0

# The tutorial: read, group by customer, quintile scores, named segments, write. Only the four
# columns RFM needs are read (usecols), which a careful tutorial does and which keeps the
# comparison fair to pandas; dates are parsed while reading, as tutorials do.
PANDAS_SCRIPT = """
import sys

import numpy as np
import pandas as pd

source, target = sys.argv[1], sys.argv[2]
columns = ["order_id", "customer_id", "order_date", "amount"]
if source.endswith(".parquet"):
    orders = pd.read_parquet(source, columns=columns)
else:
    orders = pd.read_csv(source, usecols=columns, parse_dates=["order_date"])

snapshot = orders["order_date"].max() + pd.Timedelta(days=1)
rfm = orders.groupby("customer_id").agg(
    last_order=("order_date", "max"),
    frequency=("order_id", "nunique"),
    monetary=("amount", "sum"),
)
rfm["recency"] = (snapshot - rfm["last_order"]).dt.days

rfm["r_score"] = pd.qcut(rfm["recency"], 5, labels=[5, 4, 3, 2, 1]).astype(int)
# many customers share a frequency, so F is cut on ranks to get five distinct bins
rfm["f_score"] = pd.qcut(
    rfm["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]
).astype(int)
rfm["m_score"] = pd.qcut(rfm["monetary"], 5, labels=[1, 2, 3, 4, 5]).astype(int)
rfm["rfm_code"] = (
    rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
)

r, f, m = rfm["r_score"], rfm["f_score"], rfm["m_score"]
segments = {
    "Champions": (r >= 4) & (f >= 4) & (m >= 4),
    "Can't Lose Them": (r <= 2) & (f >= 4) & (m >= 4),
    "At Risk": (r <= 2) & (f >= 3),
    "Loyal": (r >= 3) & (f >= 4),
    "Need Attention": (r == 3) & (f.between(2, 3)),
    "Potential Loyalist": (r >= 4) & (f.between(2, 3)),
    "New Customers": (r == 5) & (f == 1),
    "Promising": (r == 4) & (f == 1),
    "About to Sleep": (r == 3) & (f == 1),
    "Hibernating": (r == 2) & (f <= 2),
    "Lost": (r == 1) & (f <= 2),
}
rfm["segment"] = np.select(list(segments.values()), list(segments.keys()), default="Other")
rfm.reset_index().to_parquet(target, index=False)
"""

# The floor: the three aggregates and nothing else, by the engine Lealta itself runs on. Distinct
# orders are counted by a two-level GROUP BY (per customer and order, then per customer), which
# is cheaper than count(DISTINCT order_id) and what a careful DuckDB user writes.
DUCKDB_SCRIPT = '''
import sys

import duckdb

source, target = (path.replace("'", "''") for path in sys.argv[1:3])
reader = "read_parquet" if source.endswith(".parquet") else "read_csv"
duckdb.sql(f"""
    COPY (
        SELECT customer_id,
               max(last_order) AS last_order,
               count(order_id) AS frequency,
               sum(amount) AS monetary
        FROM (
            SELECT customer_id, order_id, max(order_date) AS last_order, sum(amount) AS amount
            FROM {reader}('{source}')
            GROUP BY customer_id, order_id
        )
        GROUP BY customer_id
    ) TO '{target}' (FORMAT parquet)
""")
'''


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock, the time a user waits
    cpu_seconds: float  # user + system; less disturbed than wall time by other busy processes
    peak_mb: float  # peak resident set size
    others_cpu_seconds: float | None  # CPU time other processes took meanwhile (None: unknown)


class ToolFailed(Exception):
    """A tool exited non-zero; the message is its exit code and stderr."""


@dataclass
class Tool:
    name: str
    command: list[str]  # "{source}" and "{output}" stand for the order and output files
    output: Path
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def seconds(self) -> list[float]:
        return [run.seconds for run in self.runs]

    @property
    def peak_mb(self) -> float:
        """The highest peak over all runs: memory must fit every time, not on average."""
        return max(run.peak_mb for run in self.runs)

    @property
    def best_cpu(self) -> float:
        return min(run.cpu_seconds for run in self.runs)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def argv(self, source: Path) -> list[str]:
        paths = {"{source}": str(source), "{output}": str(self.output)}
        return [paths.get(part, part) for part in self.command]


def orders_count(text: str) -> int:
    """An order count such as 1000000, 1_000_000, 1,000,000 or 1e6."""
    cleaned = text.replace(",", "").replace("_", "")
    try:
        value = float(cleaned) if "e" in cleaned.lower() else int(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of orders: {text!r}") from None
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"orders must be a positive whole number: {text!r}")
    return int(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Time Lealta's `lealta rfm` end to end (order file -> scored segments in a Parquet "
            "file) against a tutorial pandas implementation and a bare DuckDB GROUP BY (the "
            "floor). Each tool runs as a separate process; wall-clock time and peak RSS are "
            "measured per run."
        ),
        epilog="Example: python benchmarks/rfm.py 1_000_000 --repeat 3 --json results.json",
    )
    parser.add_argument(
        "orders", nargs="?", type=orders_count, help="number of orders N (about N/10 customers)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per tool (default: 3)", metavar="R"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        dest="fmt",
        help="format of the order file (default: csv)",
    )
    parser.add_argument(
        "--columns",
        choices=("narrow", "full"),
        default="narrow",
        help=(
            "narrow: the four columns RFM needs (order_id, customer_id, order_date, amount), "
            "like a minimal order export; full: the demo shop's 15 columns (default: narrow)"
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "lealta-bench",
        metavar="DIR",
        help="where order files are kept and reused (default: %(default)s)",
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_ORDERS:,} orders, 1 repeat",
    )
    args = parser.parse_args(argv)
    if args.quick:
        if args.orders is not None:
            parser.error("--quick picks its own size; give either N or --quick")
        args.orders, args.repeat = QUICK_ORDERS, 1
    if args.orders is None:
        parser.error("give the number of orders N, or --quick")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.json and not args.json.parent.is_dir():  # fail now, not after minutes of runs
        parser.error(f"--json: directory {args.json.parent} does not exist")
    return args


NARROW = ("order_id", "customer_id", "order_date", "amount")


def ensure_orders(data_dir: Path, orders: int, fmt: str, columns: str) -> tuple[Path, float | None]:
    """The order file for this size, format and width, generated unless a run left it.

    Returns the path and the generation time, or None when an existing file was reused.
    write_orders renames a finished ``.part`` file into place, so an existing file is complete;
    a narrow file is written beside its full Parquet source and renamed into place too.
    """
    suffix = "" if columns == "full" else "-narrow"
    path = data_dir / f"orders-{orders}-seed{SEED}{suffix}.{fmt}"
    if path.exists():
        return path, None
    from lealta.demo.shop import write_orders

    data_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if columns == "full":
        write_orders(path, orders=orders, seed=SEED)
        return path, time.perf_counter() - start
    full, _ = ensure_orders(data_dir, orders, "parquet", "full")
    import duckdb

    part = path.with_name(path.name + ".part")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER"
    duckdb.sql(
        f"COPY (SELECT {', '.join(NARROW)} FROM read_parquet('{full}')) TO '{part}' ({options})"
    )
    part.rename(path)
    return path, time.perf_counter() - start


def make_tools(workdir: Path) -> list[Tool]:
    """Lealta, pandas and DuckDB, in that order; competitor scripts are written to ``workdir``."""
    python = sys.executable
    # the console script installed beside this interpreter, not whatever `lealta` is on PATH
    lealta = Path(python).parent / "lealta"
    scripts = {"pandas": PANDAS_SCRIPT, "duckdb": DUCKDB_SCRIPT}
    for name, source in scripts.items():
        (workdir / f"rfm_{name}.py").write_text(textwrap.dedent(source).lstrip())
    lealta_cli = [str(lealta), "rfm", "{source}", "--output", "{output}", "--quiet"]
    return [
        Tool("lealta", lealta_cli, workdir / "lealta.parquet"),
        *(
            Tool(
                name,
                [python, str(workdir / f"rfm_{name}.py"), "{source}", "{output}"],
                workdir / f"{name}.parquet",
            )
            for name in scripts
        ),
    ]


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot, from /proc/stat (None off Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_once(argv: list[str], stats: Path) -> Run:
    """Run ``argv`` to completion and measure it.

    Peak RSS comes from GNU time when present, otherwise from os.wait4, which reports the
    rusage of exactly this child (getrusage(RUSAGE_CHILDREN) would mix all children so far).
    CPU time comes from os.wait4 either way: GNU time's rusage includes the child it waited for.
    """
    timed = [TIME_BIN, "-f", "%e %M", "-o", str(stats), *argv] if Path(TIME_BIN).exists() else argv
    with tempfile.TemporaryFile() as stderr:
        busy_before = machine_busy_seconds()
        start = time.perf_counter()
        process = subprocess.Popen(timed, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        busy_after = machine_busy_seconds()
        process.returncode = os.waitstatus_to_exitcode(status)  # so Popen won't wait again
        if process.returncode != 0:
            stderr.seek(0)
            text = stderr.read().decode(errors="replace").strip()
            raise ToolFailed(f"exit code {process.returncode}\n{text}")
    cpu = usage.ru_utime + usage.ru_stime
    # both report KiB on Linux; the last line of GNU time's file holds "%e %M"
    kib = usage.ru_maxrss if timed is argv else int(stats.read_text().split()[-1])
    others = None
    if busy_before is not None and busy_after is not None:
        # this process and GNU time add milliseconds; clock ticks make it jitter by ~0.02 s
        others = max(busy_after - busy_before - cpu, 0.0)
    return Run(seconds, cpu, kib * 1024 / MB, others)


def output_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


def check_outputs(tools: list[Tool], source: Path, stats: Path) -> int | None:
    """One untimed run per tool: drops tools that fail and compares the customer counts.

    It also warms the OS page cache and writes any missing bytecode, so that the first timed
    run of whichever tool goes first pays no cost the others do not.
    """
    counts: dict[str, int] = {}
    for tool in tools:
        try:
            run_once(tool.argv(source), stats)
        except ToolFailed as error:
            tool.error = str(error)
            print(f"  {tool.name} FAILED: {tool.error}")
            continue
        counts[tool.name] = output_rows(tool.output)
        print(f"  {tool.name}: {counts[tool.name]:,} customers")
    if len(set(counts.values())) > 1:
        print(f"WARNING: the outputs disagree on the number of customers: {counts}")
    return counts.get("duckdb") or next(iter(counts.values()), None)


def measure(tools: list[Tool], source: Path, repeat: int, stats: Path) -> None:
    """Time every working tool ``repeat`` times, taking turns so that drift hits all alike."""
    for round_ in range(1, repeat + 1):
        for tool in tools:
            if tool.error:
                continue
            try:
                run = run_once(tool.argv(source), stats)
            except ToolFailed as error:  # a failure after a good check run is still a result
                tool.error = str(error)
                print(f"  {tool.name} FAILED in run {round_}: {tool.error}")
                continue
            tool.runs.append(run)
            print(
                f"  run {round_}/{repeat} {tool.name:<7} {run.seconds:8.2f} s "
                f"{run.cpu_seconds:8.2f} cpu s {run.peak_mb:8.0f} MB{contention(run)}"
            )


def contention(run: Run) -> str:
    """A note when other processes took a noticeable share of the CPUs during ``run``."""
    if run.others_cpu_seconds is None:
        return ""
    share = run.others_cpu_seconds / (run.seconds * (os.cpu_count() or 1))
    return f"  (others used {share:.0%} of the CPUs)" if share >= BUSY_SHARE else ""


def warn_if_busy(tools: list[Tool]) -> None:
    """Wall-clock ratios are only meaningful on an otherwise idle machine: say when it was not."""
    runs = [run for tool in tools for run in tool.runs if run.others_cpu_seconds is not None]
    if not runs:
        return
    others = sum(run.others_cpu_seconds or 0.0 for run in runs)
    share = others / (sum(run.seconds for run in runs) * (os.cpu_count() or 1))
    if share >= BUSY_SHARE:
        print(
            f"\nWARNING: other processes used {share:.0%} of the CPUs during the timed runs; "
            "wall-clock times are inflated and ratios noisy (see cpu s)."
        )


def ratio(numerator: Tool, denominator: Tool) -> float | None:
    if numerator.error or denominator.error:
        return None
    return numerator.best / denominator.best


def cpu_ratio(numerator: Tool, denominator: Tool) -> float | None:
    """Ratio of least CPU seconds: the figure to trust when other processes share the CPUs."""
    if numerator.error or denominator.error:
        return None
    return numerator.best_cpu / denominator.best_cpu


def targets(lealta: Tool, pandas: Tool, floor: Tool) -> list[dict[str, Any]]:
    """The issue's three targets, judged on best times and on Lealta's highest peak."""
    peak = None if lealta.error else lealta.peak_mb
    checks = [
        ("Lealta within 1.5x of the floor", ratio(lealta, floor), LEALTA_VS_FLOOR_MAX, False),
        (
            "Lealta within 1.5x of the floor in CPU time",
            cpu_ratio(lealta, floor),
            LEALTA_VS_FLOOR_MAX,
            False,
        ),
        (
            "Lealta at least 8x faster than pandas",
            ratio(pandas, lealta),
            PANDAS_VS_LEALTA_MIN,
            True,
        ),
        ("Lealta peak memory under 1 GB", peak, LEALTA_PEAK_MB_MAX, False),
    ]
    results = []
    for label, value, limit, higher_is_better in checks:
        passed = None if value is None else (value >= limit if higher_is_better else value < limit)
        results.append({"target": label, "value": value, "limit": limit, "pass": passed})
    return results


def print_table(tools: list[Tool], floor: Tool) -> None:
    print(
        f"\n{'tool':<8} {'best s':>9} {'median s':>9} {'x floor':>8} {'peak MB':>8} {'cpu s':>8}"
        f" {'x floor cpu':>11}"
    )
    for tool in tools:
        if tool.error:
            print(f"{tool.name:<8} {'failed':>9}")
            continue
        times, cpu_times = ratio(tool, floor), cpu_ratio(tool, floor)
        x_floor = "-" if times is None else f"{times:.2f}"
        x_cpu = "-" if cpu_times is None else f"{cpu_times:.2f}"
        print(
            f"{tool.name:<8} {tool.best:9.2f} {tool.median:9.2f} {x_floor:>8} "
            f"{tool.peak_mb:8.0f} {tool.best_cpu:8.2f} {x_cpu:>11}"
        )


def print_verdict(lealta: Tool, pandas: Tool, floor: Tool, checks: list[dict[str, Any]]) -> None:
    for label, value in (
        ("Lealta / floor", ratio(lealta, floor)),
        ("Lealta / floor, CPU", cpu_ratio(lealta, floor)),
        ("pandas / Lealta", ratio(pandas, lealta)),
    ):
        print(f"{label:<20} {'n/a' if value is None else f'{value:.2f}x'}")
    print()
    for check in checks:
        verdict = {True: "PASS", False: "MISS", None: "n/a "}[check["pass"]]
        value = "n/a" if check["value"] is None else f"{check['value']:.2f}"
        print(f"{verdict}  {check['target']} (got {value}, limit {check['limit']:g})")


def report(args: argparse.Namespace, tools: list[Tool], extra: dict[str, Any]) -> dict[str, Any]:
    lealta, pandas, floor = tools
    print_table(tools, floor)
    print()
    checks = targets(lealta, pandas, floor)
    print_verdict(lealta, pandas, floor, checks)
    return {
        **extra,
        "orders": args.orders,
        "format": args.fmt,
        "seed": SEED,
        "repeat": args.repeat,
        "tools": {
            tool.name: {
                "seconds": tool.seconds,
                "best_seconds": None if tool.error else tool.best,
                "median_seconds": None if tool.error else tool.median,
                "x_floor": ratio(tool, floor),
                "x_floor_cpu": cpu_ratio(tool, floor),
                "runs": [asdict(run) for run in tool.runs],
                "peak_mb": None if tool.error else tool.peak_mb,
                "best_cpu_seconds": None if tool.error else tool.best_cpu,
                "error": tool.error,
            }
            for tool in tools
        },
        "ratios": {
            "lealta_vs_floor": ratio(lealta, floor),
            "lealta_vs_floor_cpu": cpu_ratio(lealta, floor),
            "pandas_vs_lealta": ratio(pandas, lealta),
        },
        "targets": checks,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"RFM benchmark: {args.orders:,} orders ({args.fmt}), {args.repeat} timed run(s) per tool"
    )
    source, generation = ensure_orders(args.data_dir, args.orders, args.fmt, args.columns)
    size_mb = source.stat().st_size / MB
    if generation is None:
        print(f"data: reusing {source} ({size_mb:,.0f} MB)")
    else:
        print(f"data: generated {source} ({size_mb:,.0f} MB) in {generation:.1f} s")

    with tempfile.TemporaryDirectory(prefix="lealta-bench-") as work:
        workdir = Path(work)
        tools = make_tools(workdir)
        stats = workdir / "time.txt"
        print("check run (untimed):")
        customers = check_outputs(tools, source, stats)
        print("timed runs:")
        measure(tools, source, args.repeat, stats)
        machine = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "peak_rss_from": "GNU time" if Path(TIME_BIN).exists() else "os.wait4",
        }
        extra = {
            "customers": customers,
            "data_file": str(source),
            "data_mb": size_mb,
            "generation_seconds": generation,
            "machine": machine,
        }
        results = report(args, tools, extra)
        warn_if_busy(tools)

    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 1 if any(tool.error for tool in tools) else 0


if __name__ == "__main__":
    sys.exit(main())
