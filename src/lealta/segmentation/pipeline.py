"""The RFM(P) computation from order data to scored, segmented customers.

This module wires the pure parts (options, segment map) to the ibis expressions and runs them
on an engine. The input is scanned once: rows are cleaned and aggregated per customer in one
pass (rejected rows aggregated by reason beside them), the small per-customer table is cached,
and scores, segments, summaries and reports all read from that cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lealta.engines import Engine
from lealta.errors import InvalidInput
from lealta.orders.cleaning import (
    REASON_NAMES,
    REASONS,
    clean,
    detect_date_format,
    reasons_tested,
)
from lealta.orders.columns import ColumnMap, Detection, detect_columns
from lealta.orders.sources import Source, collect_malformed, open_source
from lealta.orders.statistics import rules_never_broken
from lealta.segmentation.cutpoints import CutPoints, pymc_cut_points, r_rfm_cut_points
from lealta.segmentation.joins import attach
from lealta.segmentation.metrics import aggregate_rows, customer_values, payment_values
from lealta.segmentation.options import RFMOptions
from lealta.segmentation.scoring import add_scores, levels_of, present
from lealta.segmentation.segments import SegmentMap, load_segment_map, segment_expression


@dataclass
class CleaningReport:
    """How many input rows were read, kept and rejected (per reason)."""

    rows_read: int
    rows_kept: int
    rejected: dict[str, int]

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())


@dataclass
class RFMRun:
    """Everything one RFM computation produced; tables are ibis expressions on ``engine``.

    ``scored`` is the per-customer expression. It is computed into a table the first time
    :attr:`customers` is read, so that a run whose only use is writing one file computes its
    scores once, inside that write. Likewise the notes on degenerate data are worked out when
    first read.
    """

    engine: Engine
    source: Source
    detection: Detection
    options: RFMOptions
    segment_map: SegmentMap
    as_of: dt.date
    scored: Any
    cleaning: CleaningReport
    clean_rows: Any
    date_format: str | None
    base_notes: list[str] = field(default_factory=list)
    _customers: Any = None
    _data_notes: list[str] | None = None

    @property
    def groups(self) -> tuple[str, ...]:
        return self.detection.columns.groups

    @property
    def customers(self) -> Any:
        """The per-customer table, computed on first use."""
        if self._customers is None:
            self._customers = _cache(self.engine, self.scored)
        return self._customers

    def current(self) -> Any:
        """The per-customer table if computed already, else its expression (for one use)."""
        return self.scored if self._customers is None else self._customers

    @property
    def notes(self) -> list[str]:
        """What the user should know: detection notes, then notes on degenerate data."""
        if self._data_notes is None:
            self._data_notes = degenerate_notes(self)
        return [*self.base_notes, *self._data_notes]

    def add_note(self, note: str) -> None:
        """Record a note from a later step (e.g. clustering)."""
        self.base_notes.append(note)

    def to_pandas(self) -> Any:
        """The per-customer table as a pandas DataFrame, in a stable order."""
        keys = [*self.groups, "customer_id"]
        return self.engine.execute(self.customers.order_by(keys))


def run_rfm(
    engine: Engine,
    data: Any,
    *,
    options: RFMOptions | None = None,
    columns: dict[str, str | None] | None = None,
    groups: tuple[str, ...] = (),
    segment_map: SegmentMap | None = None,
    encoding: str = "utf-8",
) -> RFMRun:
    """Compute RFM (or RFMP, when ``options.payment`` is set) for the orders in ``data``."""
    options = options or RFMOptions()
    segment_map = segment_map or load_segment_map()
    source = open_source(engine, data, encoding=encoding)
    detection = detect_columns(source.columns, columns, groups)
    cols = detection.columns
    _check_payment_columns(options, cols)
    date_format, notes = _date_format(engine, source, cols, options)
    never = rules_never_broken(engine, source, cols, options)
    as_of = options.as_of
    if as_of is None and (options.window_days or options.since):
        unbounded = clean(
            engine, source, cols, options, date_format=date_format, as_of=None, never=never
        )
        as_of = _default_as_of(engine, unbounded, options)
    rows = clean(engine, source, cols, options, date_format=date_format, as_of=as_of, never=never)
    has_order = cols.order is not None
    if options.purchase == "order" and not has_order:
        notes.append("no order id column: each calendar day with a purchase counts as one purchase")
    total = _rows_without_scan(engine, source)
    rejects = bool(reasons_tested(cols, options, as_of, never))
    agg = _cache(
        engine,
        aggregate_rows(
            rows, options, cols.groups, has_order, count_kept=total is None, rejects=rejects
        ),
    )
    collect_malformed(engine, source)
    # One query for the cleaning report and the last purchase (the default as-of date).
    counts = engine.rows(
        agg.group_by("reason").aggregate(n=agg.rows.sum(), last=agg.last_purchase.max())
    )
    cleaning = _cleaning_report(engine, agg, source, counts, total=total)
    if cleaning.rows_kept == 0:
        raise InvalidInput(_nothing_left(cleaning), field="file")
    if as_of is None:
        last = next(c["last"] for c in counts if c["reason"] is None)
        as_of = _as_of_after(_to_date(last), options)
    values = customer_values(agg, options, as_of)
    payment = payment_values(rows, options, cols.groups, has_order, as_of)
    if payment is not None:
        # A second scan of the input: computed once, as scoring reads the values four times.
        payment = _cache(engine, payment)
        values = attach(values, payment, [*cols.groups, "customer_id"], ["payment"])
    scored = _score(engine, values, options, cols.groups, segment_map, notes)
    return RFMRun(
        engine, source, detection, options, segment_map, as_of, scored, cleaning, rows,
        date_format, notes,
    )  # fmt: skip


def _check_payment_columns(options: RFMOptions, cols: ColumnMap) -> None:
    if options.payment == "method" and not cols.payment_method:
        raise InvalidInput(
            "RFMP by payment method needs a payment method column (--payment-method)",
            field="payment_method",
        )
    if options.payment == "promptness" and not (
        cols.due_date or cols.days_to_pay or cols.paid_date
    ):
        raise InvalidInput(
            "RFMP by promptness needs --due-date and --paid-date, or --days-to-pay",
            field="due_date",
        )


def _date_format(
    engine: Engine, source: Source, cols: ColumnMap, options: RFMOptions
) -> tuple[str | None, list[str]]:
    if options.date_format:
        return options.date_format, []
    fmt, notes = detect_date_format(engine, source, cols.date)
    return fmt, notes


def _cache(engine: Engine, expr: Any) -> Any:
    try:
        return engine.materialize(expr)
    except Exception as exc:
        _reraise_read_error(exc)
        raise


def _reraise_read_error(exc: Exception) -> None:
    from lealta.errors import UnreadableFile

    text = str(exc)
    if "unicode" in text.lower():
        raise UnreadableFile(
            "the file is not valid UTF-8; pass its encoding, e.g. --encoding latin-1",
            field="encoding",
        ) from exc
    if "CSV Error" in text or "Could not convert" in text:
        first = text.strip().splitlines()[0]
        raise UnreadableFile(f"the file cannot be read: {first}", field="file") from exc


def _rows_without_scan(engine: Engine, source: Source) -> int | None:
    """The input's number of rows when the engine knows it without reading them (Parquet's
    metadata holds it), else ``None``."""
    if source.kind != "parquet":
        return None
    return int(engine.scalar(source.table.count()))


def _cleaning_report(
    engine: Engine,
    agg: Any,
    source: Source,
    counts: list[dict[str, Any]] | None = None,
    *,
    total: int | None = None,
) -> CleaningReport:
    """Rows read, kept and rejected per reason; ``counts``: ``agg``'s rows per reason, if known.

    ``total``: the input's rows, when ``agg`` counted only the rejected ones; the kept rows
    are the rest.
    """
    if counts is None:
        counts = engine.rows(agg.group_by("reason").aggregate(n=agg.rows.sum()))
    rejected = {REASON_NAMES[c["reason"]]: int(c["n"]) for c in counts if c["reason"] is not None}
    kept = sum(int(c["n"]) for c in counts if c["reason"] is None)
    if total is not None:
        kept = total - sum(rejected.values())
    if source.malformed:
        rejected["malformed"] = len(source.malformed)
    ordered = {r: rejected[r] for r in [*REASONS, "malformed"] if r in rejected}
    return CleaningReport(kept + sum(ordered.values()), kept, ordered)


def _nothing_left(report: CleaningReport) -> str:
    if report.rows_read == 0:
        return "the input has a header but no rows"
    reasons = ", ".join(f"{REASONS.get(r, r)}: {n:,}" for r, n in report.rejected.items())
    return f"none of the {report.rows_read:,} rows is a usable purchase ({reasons})"


def _default_as_of(engine: Engine, rows: Any, options: RFMOptions) -> dt.date:
    last = engine.scalar(rows.filter(rows.reason.isnull()).ts.max())
    if last is None:
        raise InvalidInput("no usable purchase rows to date the analysis from", field="file")
    return _as_of_after(_to_date(last), options)


def _as_of_after(last: dt.date, options: RFMOptions) -> dt.date:
    """The default as-of date for a last purchase on ``last``: the next day, or that day."""
    return last if options.as_of_inclusive else last + dt.timedelta(days=1)


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _score(
    engine: Engine,
    values: Any,
    options: RFMOptions,
    groups: tuple[str, ...],
    segment_map: SegmentMap,
    notes: list[str],
) -> Any:
    """Scores, code, score sum and segment for every customer."""
    cut_points = _cut_points(engine, values, options, groups)
    notes.extend(c.note for c in cut_points.values() if c.note)
    levels = levels_of(options, cut_points)
    scored = add_scores(values, options, groups, cut_points)
    # Segment rules are written for the map's own scale; a preset's levels are used literally.
    map_levels = dict.fromkeys(levels, segment_map.bins) if cut_points else levels
    segment = segment_expression(scored, segment_map, map_levels)
    return present(scored.mutate(segment=segment), options, levels)


def _cut_points(
    engine: Engine, values: Any, options: RFMOptions, groups: tuple[str, ...]
) -> dict[str, CutPoints]:
    if options.scheme == "quantile":
        return {}
    if groups:
        raise InvalidInput(
            f"the {options.scheme} preset scores all customers together; drop --group",
            field="group",
        )
    data = engine.con.to_pyarrow(values.select("recency", "frequency", "monetary"))
    names = {"r": "recency", "f": "frequency", "m": "monetary"}
    cuts: dict[str, CutPoints] = {}
    for dim, column in names.items():
        given = options.thresholds.get(dim)
        if given:
            if options.scheme == "r-rfm":  # R uses given thresholds as [a, b) intervals
                cuts[dim] = CutPoints(given, "left", len(given) + 1)
            continue
        column_values = data[column].to_pylist()
        if options.scheme == "r-rfm":
            cuts[dim] = r_rfm_cut_points(column_values, options.bins)
        else:
            cuts[dim] = pymc_cut_points(column_values, column)
    return cuts


def score_distribution(run: RFMRun) -> dict[str, dict[int, int]]:
    """Customers per score level, per dimension."""
    out: dict[str, dict[int, int]] = {}
    for dim in ("r", "f", "m", "p"):
        col = f"{dim}_score"
        if col not in run.customers.columns:
            continue
        counts = run.engine.rows(run.customers.group_by(col).aggregate(n=run.customers.count()))
        out[dim] = {int(c[col]): int(c["n"]) for c in counts if c[col] is not None}
    return out


def degenerate_notes(run: RFMRun) -> list[str]:
    """Plain-words warnings for data that makes scores less informative."""
    notes: list[str] = []
    dist = score_distribution(run)
    n = sum(dist.get("r", {}).values())
    names = {"r": "recency", "f": "frequency", "m": "monetary", "p": "payment"}
    if n == 1:
        notes.append("only one customer: every score is the middle score")
        return notes
    all_levels = levels_of(run.options)
    if run.options.scheme != "quantile":
        return notes
    for dim, counts in dist.items():
        levels = all_levels[dim]
        if run.options.thresholds.get(dim):
            continue
        if len(counts) == 1:
            notes.append(f"every customer has the same {names[dim]}: all get the middle score")
        elif len(counts) < levels and n >= levels:
            missing = [s for s in range(1, levels + 1) if s not in counts]
            notes.append(
                f"{names[dim]} has heavy ties (equal values share a score): "
                f"no customer scores {', '.join(map(str, missing))}"
            )
    if 1 < n < max(all_levels.values()):
        notes.append(
            f"only {n} customers for {run.options.bins} score levels: some levels stay empty"
        )
    return notes
