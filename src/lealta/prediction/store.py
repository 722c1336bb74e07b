"""Predicted value on the platform's own orders, kept on the profile (``contact_predictions``).

The store's orders are exported to a temporary Parquet file exactly as for RFM
(:func:`lealta.segmentation.store.orders_file`: the customer is the contact, merges already
followed), the models are fitted (or given parameters used) and every customer scored by
:func:`lealta.prediction.pipeline.run_clv`. :func:`save_predictions` then replaces the table
set-wise in one transaction: the previous rows go, the new ones are written a column at a
time (:func:`lealta.storage.bulk.insert_columns`), and a contact whose P(alive) this run
moved from at or above ``alert_below`` to under it gets a ``Churn Risk Rose`` event
(properties ``p_alive``, ``previous``, ``band``), which starts the workflows triggered by it.
A contact seen for the first time gets no event: nothing rose, it is where it was found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput
from lealta.prediction.bands import HIGH_BELOW
from lealta.prediction.tables import ContactPrediction

if TYPE_CHECKING:
    from lealta.bootstrap import Services
    from lealta.prediction.models import Params
    from lealta.prediction.options import CLVOptions
    from lealta.prediction.pipeline import CLVRun

CHURN_RISK_ROSE = "Churn Risk Rose"
ID_CHUNK = 5_000

Progress = Callable[[float, str], None]


def _silent(_fraction: float, _step: str) -> None:
    """No one is following the progress."""


@dataclass(frozen=True)
class Saved:
    """What :func:`save_predictions` wrote."""

    contacts: int
    risen: int
    params_version: str


def params_version(params: Params) -> str:
    """A short digest naming fitted parameters (equal parameters, equal version)."""
    text = json.dumps(params.as_json(), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_threshold(value: Any) -> float:
    """A P(alive) threshold, strictly between 0 and 1."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        message = f"alert_below takes a number, got {value!r}"
        raise InvalidInput(message, field="alert_below") from exc
    if not 0 < number < 1:
        raise InvalidInput(
            f"alert_below is a probability between 0 and 1, got {number}", field="alert_below"
        )
    return number


def predict_store(
    services: Services,
    options: CLVOptions | None = None,
    *,
    params: Params | None = None,
    write: bool = True,
    alert_below: float = HIGH_BELOW,
    progress: Progress | None = None,
) -> tuple[CLVRun, Saved | None]:
    """Fit on the store's orders and score every contact; saved to ``contact_predictions``.

    ``progress(fraction, step)`` hears reading the orders (to 0.3), fitting and scoring (to
    0.8) and saving. Returns the run and, when ``write``, what was saved.

    Raises
    ------
    InvalidInput
        No order in the store (field ``orders``), or too few to fit (the pipeline's words).
    """
    from lealta.engines import connect
    from lealta.prediction.options import CLVOptions
    from lealta.prediction.pipeline import Reading, run_clv
    from lealta.segmentation.store import STORE_COLUMNS, orders_file

    options = options or CLVOptions()
    alert_below = check_threshold(alert_below)
    tell = progress or _silent
    reading = Reading(columns=dict(STORE_COLUMNS), cancel_pattern="")
    with orders_file(services, progress=lambda f, s: tell(0.3 * f, s)) as path:
        tell(0.3, "Fitting the models and scoring customers")
        run = run_clv(connect("duckdb"), path, options=options, reading=reading, params=params)
    if not write:
        tell(1.0, f"Scored {len(run.customers):,} customers")
        return run, None
    tell(0.8, f"Saving {len(run.customers):,} customers")
    with services.uow.transaction() as session:
        saved = save_predictions(
            session,
            run.customers,
            horizon_days=options.horizon_days,
            version=params_version(run.params),
            now=services.clock.now(),
            alert_below=alert_below,
        )
    tell(1.0, f"Saved {saved.contacts:,} customers")
    return run, saved


def save_predictions(
    session: Session,
    customers: Any,
    *,
    horizon_days: int,
    version: str,
    now: dt.datetime,
    alert_below: float = HIGH_BELOW,
) -> Saved:
    """Replace ``contact_predictions`` with ``customers`` (a scored frame: ``customer_id``,
    ``p_alive``, ``expected_purchases``, ``expected_spend``, ``clv``, ``churn_risk``).

    Contacts no longer in the store (erased, or merged away since the export) are skipped;
    every previous row goes. Records ``Churn Risk Rose`` for each contact whose P(alive) fell
    below ``alert_below`` (see the module's note).
    """
    from lealta.automations.recording import record_events
    from lealta.storage import bulk

    ids = [str(value) for value in customers["customer_id"]]
    keep = _live(session, ids)
    rows = [i for i, contact_id in enumerate(ids) if contact_id in keep]
    columns: dict[str, list[Any]] = {
        "contact_id": [ids[i] for i in rows],
        "p_alive": _floats(customers["p_alive"], rows),
        "expected_purchases": _floats(customers["expected_purchases"], rows),
        "expected_spend": _floats(customers["expected_spend"], rows),
        "clv": _floats(customers["clv"], rows),
        "churn_band": [str(customers["churn_risk"].iloc[i]) for i in rows],
    }
    above = select(ContactPrediction.contact_id, ContactPrediction.p_alive).where(
        ContactPrediction.p_alive >= alert_below
    )
    before = {str(contact_id): float(p) for contact_id, p in session.execute(above)}
    session.execute(delete(ContactPrediction))
    bulk.insert_columns(
        session.connection(),
        ContactPrediction.__table__,  # type: ignore[arg-type]
        columns,
        shared={"horizon_days": horizon_days, "params_version": version, "computed_at": now},
    )
    stamp = now.isoformat()
    events = [
        {
            "message_id": f"churn:{contact_id}:{stamp}"[:128],
            "contact_id": contact_id,
            "name": CHURN_RISK_ROSE,
            "properties": {
                "p_alive": round(p_alive, 4),
                "previous": round(before[contact_id], 4),
                "band": band,
                "below": alert_below,
            },
        }
        for contact_id, p_alive, band in zip(
            columns["contact_id"], columns["p_alive"], columns["churn_band"], strict=True
        )
        if contact_id in before and p_alive < alert_below
    ]
    if events:
        record_events(session, events, entry_key=f"churn:{stamp}", now=now)
    return Saved(len(columns["contact_id"]), len(events), version)


def predictions_of(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each contact's saved prediction (the table's columns but the id), one query."""
    if not ids:
        return {}
    query = select(ContactPrediction).where(ContactPrediction.contact_id.in_(list(ids)))
    return {row.contact_id: as_dict(row) for row in session.scalars(query)}


def as_dict(row: ContactPrediction) -> dict[str, Any]:
    """One saved prediction as plain values."""
    return {
        "p_alive": row.p_alive,
        "expected_purchases": row.expected_purchases,
        "expected_spend": row.expected_spend,
        "clv": row.clv,
        "churn_band": row.churn_band,
        "horizon_days": row.horizon_days,
        "params_version": row.params_version,
        "computed_at": row.computed_at,
    }


def _live(session: Session, ids: Sequence[str]) -> set[str]:
    """Of ``ids``, the contacts that still exist, are not erased and were not merged away."""
    from lealta.contacts.tables import Contact

    found: set[str] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        found.update(
            session.scalars(
                select(Contact.id).where(
                    Contact.id.in_(chunk),
                    Contact.erased_at.is_(None),
                    Contact.merged_into.is_(None),
                )
            )
        )
    return found


def _floats(values: Any, rows: Sequence[int]) -> list[float]:
    """The chosen rows as floats; a value the model could not give (NaN) counts as 0."""
    import math

    picked = values.to_numpy()
    return [0.0 if math.isnan(x := float(picked[i])) else x for i in rows]
