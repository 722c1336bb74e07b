"""The predicted value, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from lealta.persons.registry import PersonRows
from lealta.persons.rows import deleted, dropped, listed
from lealta.prediction.tables import ContactPrediction

_COLUMNS = (
    "contact_id",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "churn_band",
    "horizon_days",
    "params_version",
    "computed_at",
)

ROWS = (
    PersonRows(
        table=ContactPrediction.__tablename__,
        erase=deleted(ContactPrediction),
        erased="deleted",
        merge=dropped(ContactPrediction),
        merged="the merged profile's is dropped; the survivor's stays until the next run fits "
        "on the united orders",
        sections=(
            (
                "predicted_value",
                listed(ContactPrediction, ContactPrediction.contact_id, _COLUMNS),
            ),
        ),
    ),
)
