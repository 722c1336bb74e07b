"""Carrying out ``lealta rfm`` and ``lealta cluster``: run, write, summarise, report."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lealta.errors import InvalidInput
from lealta.segmentation.options import RFMOptions


@dataclass
class RFMRequest:
    """Everything the command line asked for."""

    file: Path
    options: RFMOptions
    columns: dict[str, str | None]
    groups: tuple[str, ...] = ()
    segments: Path | None = None
    preset: str = "lealta"
    engine: str = "duckdb"
    encoding: str = "utf-8"
    output: Path | None = None
    summary_output: Path | None = None
    rejects: Path | None = None
    report: Path | None = None
    clusters: str | None = None
    quiet: bool = False
    cluster_range: tuple[int, int] = (2, 8)
    seed: int = 42
    profiles_output: Path | None = None
    extra_facts: dict[str, str] = field(default_factory=dict)
    # Called with the run and its clustering (or None) once outputs are written (--from-store).
    on_finished: Callable[[Any, Any], None] | None = None


def parse_clusters(text: str | None) -> tuple[bool, int | None]:
    """Whether to cluster, and with which k: ``None``/``"none"`` → no; ``"auto"`` → choose k."""
    if text is None or text.lower() in ("", "none", "no"):
        return False, None
    if text.lower() == "auto":
        return True, None
    if text.isdigit() and int(text) >= 2:
        return True, int(text)
    raise InvalidInput(
        f"expected 'auto' or a number of clusters (2 or more), got {text!r}", field="clusters"
    )


def execute_rfm(request: RFMRequest) -> Any:
    """Run the request end to end and return the finished :class:`RFMRun`."""
    from lealta.engines import connect
    from lealta.segmentation import outputs
    from lealta.segmentation.pipeline import run_rfm
    from lealta.segmentation.presets import apply_preset
    from lealta.segmentation.segments import load_segment_map

    show = _Progress(request.quiet)
    wanted, k = parse_clusters(request.clusters)
    started = time.perf_counter()
    user_map = load_segment_map(request.segments) if request.segments else None
    options, segment_map = apply_preset(request.preset, request.options, user_map)
    engine = connect(request.engine)
    with show.working(engine, "Reading, cleaning and scoring orders"):
        run = run_rfm(
            engine,
            request.file,
            options=options,
            columns=request.columns,
            groups=request.groups,
            segment_map=segment_map,
            encoding=request.encoding,
        )
    clustering = None
    if wanted:
        with show.status("Clustering customers (K-Means)…"):
            clustering = cluster_run(
                run,
                k=k,
                k_range=request.cluster_range,
                seed=request.seed,
            )
    with show.working(engine, "Writing outputs"):
        written = _write_outputs(run, request, clustering)
    if request.on_finished is not None:
        request.on_finished(run, clustering)
    if not request.quiet:
        from rich.console import Console

        from lealta.cli.render import print_run

        summary = outputs.segment_summary(run)
        print_run(Console(), run, summary, clustering, written, time.perf_counter() - started)
    return run


class _Progress:
    """Progress on standard error while the run works; with ``--quiet``, nothing, and rich's
    console and progress bars are never imported (41 of the 57 rich modules a run loaded;
    ibis loads the other 16 itself)."""

    def __init__(self, quiet: bool) -> None:
        self.console: Any = None
        if not quiet:
            from rich.console import Console

            self.console = Console(stderr=True)

    def working(self, engine: Any, description: str) -> Any:
        if self.console is None:
            return contextlib.nullcontext()
        from lealta.cli.progress import working

        return working(self.console, engine, description)

    def status(self, description: str) -> Any:
        if self.console is None:
            return contextlib.nullcontext()
        return self.console.status(description)


@dataclass
class Clustering:
    """K-Means on a run: the result (profiles, k, silhouettes) and each row's labels."""

    result: Any
    labels: Any  # pandas: the run's key columns (groups, customer_id), cluster, cluster_name

    @property
    def profiles(self) -> Any:
        return self.result.profiles

    @property
    def k(self) -> int:
        return int(self.result.k)


def cluster_run(run: Any, *, k: int | None, k_range: tuple[int, int], seed: int) -> Clustering:
    """K-Means on the run's customers (with --group, a customer may have several rows)."""
    from lealta.clustering import cluster_customers

    frame = run.to_pandas()
    keys = [*run.groups, "customer_id"]
    # Rows are identified by position, since a customer id repeats across groups.
    by_row = frame.assign(customer_id=[str(i) for i in range(len(frame))])
    result = cluster_customers(
        by_row, k=k, k_range=k_range, seed=seed, use_payment="payment" in frame.columns
    )
    found = result.labels.set_index("customer_id").loc[by_row["customer_id"]]
    labels = frame[keys].assign(
        cluster=found["cluster"].astype("int64").to_numpy(),
        cluster_name=found["cluster_name"].to_numpy(),
    )
    for note in result.notes:
        run.add_note(note)
    return Clustering(result, labels)


def _cluster_table(run: Any, clustering: Clustering) -> Any:
    import ibis

    if run.engine.name == "duckdb":
        return ibis.memtable(clustering.labels)
    return run.engine.con.create_table("lealta_clusters", clustering.labels, overwrite=True)


def _write_outputs(run: Any, request: RFMRequest, clustering: Any) -> dict[str, Path]:
    from lealta.segmentation import outputs

    written: dict[str, Path] = {}
    clusters = _cluster_table(run, clustering) if clustering is not None else None
    if request.output:
        outputs.write_table(run, outputs.customer_table(run, clusters), request.output)
        written["customers"] = request.output
    if request.summary_output:
        frame = outputs.segment_summary(run)
        if request.summary_output.suffix == ".json":
            frame.to_json(request.summary_output, orient="records", indent=1)
        else:
            frame.to_csv(request.summary_output, index=False)
        written["summary"] = request.summary_output
    if request.rejects:
        outputs.write_rejects(run, request.rejects)
        written["rejects"] = request.rejects
    if request.profiles_output and clustering is not None:
        clustering.profiles.to_csv(request.profiles_output, index=False)
        written["profiles"] = request.profiles_output
    if request.report:
        write_report(run, request.report, clusters, clustering)
        written["report"] = request.report
    return written


def write_report(run: Any, path: Path, clusters: Any, clustering: Any) -> None:
    """The self-contained HTML report of ``run``."""
    from lealta.cli.render import facts_of
    from lealta.report.html import render_report
    from lealta.segmentation import outputs

    customers = run.engine.execute(outputs.customer_table(run, clusters))
    html = render_report(
        customers,
        outputs.segment_summary(run),
        title=f"RFM report — {Path(run.source.name).name}",
        facts=facts_of(run),
        bins=run.options.bins,
        clusters=clustering.profiles if clustering is not None else None,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
