"""The analyst's Python API: ``lealta.rfm(...)`` and ``lealta.cluster(...)``.

Both accept a path (CSV, CSV.gz, Parquet, Excel, JSON lines), a pandas or Polars DataFrame, an
Arrow table or an ibis table, and return a pandas DataFrame with one row per customer. How the
input was cleaned and what was noticed travels in ``DataFrame.attrs["lealta"]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lealta.segmentation.options import Monetary, Payment, Purchase, RFMOptions

ROLES = (
    "customer", "date", "order", "amount", "quantity", "price", "payment_method",
    "due_date", "paid_date", "days_to_pay", "email", "name",
)  # fmt: skip


def _date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def rfm_run(
    data: Any,
    *,
    columns: Mapping[str, str] | None = None,
    group: Sequence[str] = (),
    as_of: str | dt.date | None = None,
    window: int | None = None,
    since: str | dt.date | None = None,
    purchase: Purchase = "order",
    monetary: Monetary = "sum",
    bins: int = 5,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    best: int = 5,
    reverse_recency: bool = False,
    payment: Payment | None = None,
    payment_ranking: Mapping[str, float] | None = None,
    date_format: str | None = None,
    cancel_pattern: str = r"^[Cc][0-9]",
    decimal_comma: bool = False,
    segments: str | Path | None = None,
    preset: str = "lealta",
    engine: str = "duckdb",
    encoding: str = "utf-8",
) -> Any:
    """Run RFM and return the :class:`~lealta.segmentation.pipeline.RFMRun` (tables in the engine).

    Parameters mirror ``lealta rfm --help``; ``columns`` maps roles (``customer``, ``date``,
    ``order``, ``amount``, ``quantity``, ``price``, ``payment_method``, ``due_date``,
    ``paid_date``, ``days_to_pay``, ``email``, ``name``) to column names.
    """
    from lealta.engines import connect
    from lealta.errors import InvalidInput
    from lealta.segmentation.pipeline import run_rfm
    from lealta.segmentation.presets import apply_preset
    from lealta.segmentation.segments import load_segment_map

    unknown = set(columns or {}) - set(ROLES)
    if unknown:
        raise InvalidInput(
            f"unknown column roles {sorted(unknown)}; known: {ROLES}", field="columns"
        )
    if best not in (1, 5):
        raise InvalidInput("best takes 5 (highest is best) or 1 (1 is best)", field="best")
    options = RFMOptions(
        as_of=_date(as_of),
        window_days=window,
        since=_date(since),
        purchase=purchase,
        monetary=monetary,
        bins=bins,
        thresholds={k: tuple(float(x) for x in v) for k, v in (thresholds or {}).items()},
        best_high=best == 5,
        reverse_recency=reverse_recency,
        payment=payment,
        method_ranking={k.lower(): float(v) for k, v in (payment_ranking or {}).items()},
        date_format=date_format,
        cancel_pattern=cancel_pattern,
        decimal_comma=decimal_comma,
    )
    user_map = load_segment_map(segments) if segments else None
    options, segment_map = apply_preset(preset, options, user_map)
    return run_rfm(
        connect(engine),
        data,
        options=options,
        columns=dict(columns or {}),
        groups=tuple(group),
        segment_map=segment_map,
        encoding=encoding,
    )


def rfm(data: Any, **kwargs: Any) -> Any:
    """Score customers by RFM (or RFMP with ``payment=``) and name their segments.

    Returns a pandas DataFrame, one row per customer (and group), with ``recency`` (days),
    ``frequency`` (purchases), ``monetary``, ``revenue``, ``orders``, the scores
    ``r_score``/``f_score``/``m_score`` (and ``p_score``), ``rfm_code``, ``score_sum`` and
    ``segment``. ``attrs["lealta"]`` holds the as-of date, the cleaning report, the detected
    columns and notes. Keyword arguments: see :func:`rfm_run`.

    Examples
    --------
    >>> import lealta
    >>> scores = lealta.rfm("orders.csv", as_of="2025-01-01")  # doctest: +SKIP
    >>> scores.groupby("segment").size()  # doctest: +SKIP
    """
    from lealta.segmentation.outputs import customer_table

    run = rfm_run(data, **kwargs)
    run.customers  # noqa: B018 - computed once here; the frame and the notes both read it
    frame = run.engine.execute(customer_table(run))
    frame.attrs["lealta"] = describe(run)
    return frame


def describe(run: Any) -> dict[str, Any]:
    """What a run did, as plain data."""
    return {
        "as_of": run.as_of.isoformat(),
        "rows_read": run.cleaning.rows_read,
        "rows_kept": run.cleaning.rows_kept,
        "rejected": dict(run.cleaning.rejected),
        "columns": run.detection.columns.roles(),
        "detected": dict(run.detection.how),
        "notes": list(run.notes),
        "segment_map": run.segment_map.name,
    }


def cluster(
    data: Any,
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 42,
    use_payment: bool | None = None,
    **rfm_kwargs: Any,
) -> Any:
    """K-Means clusters of customers on log-scaled, standardised R, F, M (and P).

    ``data`` is an order file or table (RFM is computed first, with ``rfm_kwargs``), or an RFM
    table that already has ``customer_id``, ``recency``, ``frequency``, ``monetary`` and
    ``revenue`` columns. Returns the per-customer DataFrame with ``cluster`` and
    ``cluster_name``; ``attrs["lealta"]["profiles"]`` holds each cluster's profile and
    ``attrs["lealta"]["silhouette"]`` the silhouette score of each ``k`` tried.
    """
    from lealta.clustering import cluster_customers

    frame = _rfm_table(data, rfm_kwargs)
    payment = "payment" in frame.columns if use_payment is None else use_payment
    result = cluster_customers(frame, k=k, k_range=k_range, seed=seed, use_payment=payment)
    merged = frame.drop(columns=["cluster", "cluster_name"], errors="ignore").merge(
        result.labels[["customer_id", "cluster", "cluster_name"]], on="customer_id", how="left"
    )
    info = dict(frame.attrs.get("lealta", {}))
    info.update(
        profiles=result.profiles, k=result.k, silhouette=dict(result.silhouette), notes=result.notes
    )
    merged.attrs["lealta"] = info
    return merged


def _rfm_table(data: Any, rfm_kwargs: dict[str, Any]) -> Any:
    needed = {"customer_id", "recency", "frequency", "monetary", "revenue"}
    columns = getattr(data, "columns", None)
    if columns is not None and needed <= set(columns) and not rfm_kwargs:
        import pandas as pd

        return data if isinstance(data, pd.DataFrame) else data.to_pandas()
    return rfm(data, **rfm_kwargs)


def clv(
    data: Any,
    *,
    columns: Mapping[str, str] | None = None,
    as_of: str | dt.date | None = None,
    period: str = "week",
    horizon: int | str = 90,
    discount: float = 0.0,
    holdout: int | str | dt.date | None = None,
    params: str | Path | Mapping[str, Any] | None = None,
    date_format: str | None = None,
    cancel_pattern: str = r"^[Cc][0-9]",
    decimal_comma: bool = False,
    encoding: str = "utf-8",
) -> Any:
    """Predicted purchases, churn and value per customer (BG/NBD and Gamma-Gamma).

    Needs the ``clv`` extra (``pip install 'lealta[clv]'``). Parameters mirror
    ``lealta clv --help``: ``horizon`` in days (or ``"13w"``, ``"3m"``), ``holdout`` a number
    of days, a span (``"39w"``) or the calibration's last day, ``params`` fitted parameters
    (a JSON file or the mapping of ``attrs["lealta"]["params"]``) to score without refitting.

    Returns a pandas DataFrame, one row per customer: ``frequency``, ``recency``, ``T``,
    ``monetary_value`` (the models' summary), ``p_alive``, ``expected_purchases``,
    ``expected_spend``, ``clv``, ``churn_risk`` (and ``holdout_purchases``,
    ``holdout_predicted`` with a holdout). ``attrs["lealta"]`` holds the dates, the fitted
    parameters with their standard errors, the cleaning report and the holdout figures.

    Examples
    --------
    >>> import lealta
    >>> value = lealta.clv("orders.csv", horizon="1y", discount=0.1)  # doctest: +SKIP
    >>> value.nlargest(10, "clv")  # doctest: +SKIP
    """
    from lealta.engines import connect
    from lealta.errors import InvalidInput
    from lealta.prediction.models import Params, params_from_json, read_params
    from lealta.prediction.options import CLVOptions, parse_holdout, parse_span
    from lealta.prediction.pipeline import Reading, run_clv

    unknown = set(columns or {}) - set(ROLES)
    if unknown:
        raise InvalidInput(
            f"unknown column roles {sorted(unknown)}; known: {ROLES}", field="columns"
        )
    given: Params | None = None
    if isinstance(params, Mapping):
        given = params_from_json(dict(params), "params")
    elif params is not None:
        given = read_params(Path(params))
    options = CLVOptions(
        as_of=_date(as_of),
        period=period,  # type: ignore[arg-type]
        horizon_days=horizon if isinstance(horizon, int) else parse_span(horizon, "horizon"),
        discount=discount,
        holdout=parse_holdout(holdout) if isinstance(holdout, str) else holdout,
    )
    reading = Reading(
        columns=dict(columns or {}),
        date_format=date_format,
        cancel_pattern=cancel_pattern,
        decimal_comma=decimal_comma,
        encoding=encoding,
    )
    run = run_clv(connect("duckdb"), data, options=options, reading=reading, params=given)
    frame = run.customers
    frame.attrs["lealta"] = describe_clv(run)
    return frame


def describe_clv(run: Any) -> dict[str, Any]:
    """What a prediction run did, as plain data."""
    check = run.holdout
    return {
        "as_of": run.as_of.isoformat(),
        "calibration_end": run.calibration_end.isoformat(),
        "period": run.options.period,
        "horizon_days": run.options.horizon_days,
        "discount": run.options.discount,
        "params": run.params.as_json(),
        "standard_errors": run.params.errors,
        "fitted": run.fitted,
        "rows_read": run.cleaning.rows_read,
        "rows_kept": run.cleaning.rows_kept,
        "rejected": dict(run.cleaning.rejected),
        "columns": run.detection.columns.roles(),
        "holdout": None
        if check is None
        else {
            "days": check.holdout_days,
            "actual": check.actual,
            "predicted": check.predicted,
            "aggregate_error": check.aggregate_error,
            "mae": check.mae,
        },
    }
