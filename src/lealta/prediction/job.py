"""The ``clv`` job: predicted value for every contact, fitted on the store's orders.

Queued by ``POST /v1/segmentation/clv`` (a fit takes seconds to minutes, never inside a
request) and run by ``lealta worker``. Its ``params`` (all optional): ``horizon_days`` (90),
``period`` (``week`` or ``day``), ``discount`` (annual rate, 0) and ``alert_below`` (the
P(alive) under which a fall records ``Churn Risk Rose``, 0.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lealta.errors import InvalidInput
from lealta.prediction.bands import HIGH_BELOW

if TYPE_CHECKING:
    from lealta.bootstrap import Services
    from lealta.prediction.options import CLVOptions

KIND = "clv"
PARAMS = ("horizon_days", "period", "discount", "alert_below")


def options_from(params: dict[str, Any]) -> tuple[CLVOptions, float]:
    """The options and alert threshold a job's ``params`` ask for (each checked)."""
    from lealta.prediction.options import CLVOptions
    from lealta.prediction.store import check_threshold

    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise InvalidInput(f"unknown clv option {unknown[0]!r}", field=unknown[0])
    values = {key: params[key] for key in PARAMS[:3] if params.get(key) is not None}
    alert = check_threshold(params.get("alert_below", HIGH_BELOW))
    return CLVOptions(**values), alert


def run_job(services: Services, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Run a ``clv`` job; its result says what was fitted and saved."""
    from lealta.prediction.store import predict_store

    options, alert = options_from(params)
    run, saved = predict_store(services, options, alert_below=alert, progress=progress)
    assert saved is not None  # written: predict_store saves unless told not to
    bands = run.customers["churn_risk"].value_counts()
    return {
        "as_of": run.as_of.isoformat(),
        "horizon_days": options.horizon_days,
        "customers": saved.contacts,
        "churn_risk_rose": saved.risen,
        "params_version": saved.params_version,
        "params": run.params.as_json(),
        "bands": {str(name): int(n) for name, n in bands.items()},
    }
