"""Fitting BG/NBD and Gamma-Gamma with pymc-marketing, and scoring customers with them.

The likelihoods and the predictive formulas are the library's; this module chooses flat
priors (so the MAP fit is the papers' maximum likelihood fit), reads the estimates under the
papers' names, adds their standard errors from the library model's Hessian, and turns the
predictions into per-customer columns.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lealta.errors import InvalidInput
from lealta.prediction.bands import churn_band
from lealta.prediction.library import clv_library, prior, quiet

BGNBD = ("r", "alpha", "a", "b")
GAMMA_GAMMA = ("p", "q", "gamma")
# pymc-marketing calls the Gamma-Gamma scale ``v``; the papers call it gamma.
LIBRARY_NAME = {"gamma": "v"}
STEP_DAYS = 30


@dataclass(frozen=True)
class Params:
    """Fitted parameters under the papers' names, with standard errors when fitted here."""

    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    errors: dict[str, dict[str, float]] = field(default_factory=dict)
    # The library's fitted models, reused for scoring (building them again costs seconds).
    models: Any = field(default=None, compare=False, repr=False)

    def as_json(self) -> dict[str, Any]:
        """``{"bgnbd": {"r", "alpha", "a", "b"}, "gamma_gamma": {"p", "q", "gamma"}}``."""
        return {"bgnbd": dict(self.bgnbd), "gamma_gamma": dict(self.gamma_gamma)}


def write_params(params: Params, path: Path) -> None:
    """The parameters as JSON (numbers only, the papers' names)."""
    path.write_text(json.dumps(params.as_json(), indent=2) + "\n", encoding="utf-8")


def read_params(path: Path) -> Params:
    """Parameters written by :func:`write_params` (or by hand), checked."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file", field="params") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path}: not JSON ({exc.msg}, line {exc.lineno})", field="params"
        ) from exc
    return params_from_json(data, str(path))


def params_from_json(data: Any, where: str) -> Params:
    """Parameters from their JSON form (see :meth:`Params.as_json`), checked."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a JSON object", field="params")
    return Params(
        bgnbd=_section(data, "bgnbd", BGNBD), gamma_gamma=_section(data, "gamma_gamma", GAMMA_GAMMA)
    )


def _section(data: dict[str, Any], name: str, keys: tuple[str, ...]) -> dict[str, float]:
    part = data.get(name)
    if not isinstance(part, dict):
        raise InvalidInput(f"params: missing the {name!r} object", field=f"params.{name}")
    out: dict[str, float] = {}
    for key in keys:
        value = part.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(
                f"params: {name}.{key} must be a number, got {value!r}",
                field=f"params.{name}.{key}",
            )
        if not (math.isfinite(value) and value > 0):
            raise InvalidInput(
                f"params: {name}.{key} must be a positive number, got {value}",
                field=f"params.{name}.{key}",
            )
        out[key] = float(value)
    return out


def fit(summary: Any) -> Params:
    """Maximum likelihood BG/NBD on every customer, Gamma-Gamma on repeat buyers.

    ``summary`` is a pandas DataFrame with ``customer_id``, ``frequency``, ``recency``, ``T``
    and ``monetary_value`` (see :mod:`lealta.prediction.summary`).
    """
    _check_fittable(summary)
    bg = _bgnbd_model(summary)
    gg = _gamma_gamma_model(_spenders(summary))
    with quiet():
        bg.fit(method="map", progressbar=False)
        gg.fit(method="map", progressbar=False)
    bgnbd = _estimates(bg, BGNBD)
    gamma_gamma = _estimates(gg, GAMMA_GAMMA)
    errors = {
        "bgnbd": _standard_errors(bg, bgnbd),
        "gamma_gamma": _standard_errors(gg, gamma_gamma),
    }
    return Params(bgnbd, gamma_gamma, errors, models=(bg, gg))


def _check_fittable(summary: Any) -> None:
    repeat = int((summary["frequency"] > 0).sum())
    if len(summary) < 2 or repeat == 0:
        raise InvalidInput(
            f"{len(summary):,} customers, {repeat:,} with a repeat purchase: the models need "
            "customers who bought more than once to learn from",
            field="file",
        )
    if int(_spenders(summary).shape[0]) < 2:
        raise InvalidInput(
            "fewer than two customers with a repeat purchase of positive value: "
            "the spend model (Gamma-Gamma) cannot be fitted",
            field="file",
        )


def _spenders(summary: Any) -> Any:
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    return summary.loc[keep, ["customer_id", "frequency", "monetary_value"]]


def _bgnbd_model(summary: Any) -> Any:
    lib = clv_library()
    data = summary[["customer_id", "frequency", "recency", "T"]]
    config = {name: prior("HalfFlat") for name in BGNBD}
    with quiet():
        return lib.BetaGeoModel(data=data, model_config=config)


def _gamma_gamma_model(spenders: Any) -> Any:
    lib = clv_library()
    config = {LIBRARY_NAME.get(name, name): prior("HalfFlat") for name in GAMMA_GAMMA}
    with quiet():
        return lib.GammaGammaModel(data=spenders, model_config=config)


def _estimates(model: Any, names: tuple[str, ...]) -> dict[str, float]:
    posterior = model.fit_result
    return {n: float(posterior[LIBRARY_NAME.get(n, n)].values.ravel()[0]) for n in names}


def _standard_errors(model: Any, estimates: dict[str, float]) -> dict[str, float]:
    """Asymptotic standard errors: the inverse of the log-likelihood's Hessian.

    The library's model is parametrised by the logs of the (positive) parameters. The Hessian
    there is taken by central differences of the library's own gradient (compiled for the fit
    already; a symbolic Hessian costs seconds to minutes of graph compilation), then carried
    back with the delta method, ``se(θ) = θ · se(log θ)``. A singular Hessian (a parameter at
    the edge of its range) gives NaN.
    """
    import numpy as np

    pm_model = model.model
    names = [_paper_name(v.name.removesuffix("_log__"), estimates) for v in pm_model.value_vars]
    centre = np.log([estimates[n] for n in names])
    with quiet():
        gradient = pm_model.compile_dlogp(jacobian=False)
    step = 1e-5
    columns = []
    for j in range(len(names)):
        shift = np.zeros(len(names))
        shift[j] = step
        up = gradient(dict(zip(_value_names(pm_model), centre + shift, strict=True)))
        down = gradient(dict(zip(_value_names(pm_model), centre - shift, strict=True)))
        columns.append((np.asarray(up, dtype=float) - np.asarray(down, dtype=float)) / (2 * step))
    hessian = np.column_stack(columns)
    information = -(hessian + hessian.T) / 2
    try:
        variances = np.diag(np.linalg.inv(information))
    except np.linalg.LinAlgError:
        return {n: float("nan") for n in names}
    errors = np.where(variances > 0, np.sqrt(np.abs(variances)), np.nan) * np.exp(centre)
    return {n: float(e) for n, e in zip(names, errors, strict=True)}


def _value_names(pm_model: Any) -> list[str]:
    return [v.name for v in pm_model.value_vars]


def _paper_name(library_name: str, estimates: dict[str, float]) -> str:
    return next(k for k in estimates if LIBRARY_NAME.get(k, k) == library_name)


def score(
    summary: Any, params: Params, *, period_days: int, horizon_days: int, discount: float
) -> Any:
    """Per customer: P(alive), expected purchases and spend, lifetime value, churn band.

    - ``p_alive``: probability that the customer has not churned (BG/NBD);
    - ``expected_purchases``: expected purchases in the next ``horizon_days``;
    - ``expected_spend``: expected value of a future purchase (Gamma-Gamma, conditional on the
      customer's repeat purchases; the population mean for customers without one);
    - ``clv``: the expected spend over the horizon, in 30-day steps (the last may be shorter),
      each step's expected purchases times ``expected_spend``, discounted to today at the
      annual rate ``discount``;
    - ``churn_risk``: see :mod:`lealta.prediction.bands`.
    """
    import numpy as np

    if params.models is not None:
        bg, gg = params.models
    else:
        bg = _with_params(_bgnbd_model(summary), params.bgnbd)
        gg = _with_params(_gamma_gamma_model(_spenders(summary)), params.gamma_gamma)
    data = summary[["customer_id", "frequency", "recency", "T", "monetary_value"]]
    ends = _step_ends(horizon_days, discount)
    with quiet():
        p_alive = _values(bg.expected_probability_alive(data))
        spend = _values(gg.expected_customer_spend(data))
        cumulative = [
            _values(bg.expected_purchases(data, future_t=days / period_days)) for days in ends
        ]
    clv = np.zeros(len(data))
    previous = np.zeros(len(data))
    for days, purchases in zip(ends, cumulative, strict=True):
        clv += (purchases - previous) * spend / (1.0 + discount) ** (days / 365.0)
        previous = purchases
    out = summary.copy()
    out["p_alive"] = p_alive
    out["expected_purchases"] = cumulative[-1]
    out["expected_spend"] = spend
    out["clv"] = clv
    out["churn_risk"] = churn_band(p_alive, summary["frequency"].to_numpy())
    return out


def _step_ends(horizon_days: int, discount: float) -> list[int]:
    """Ends of the 30-day steps of the horizon, in days (the last step may be shorter).

    Without a discount the steps add up to the whole horizon's expected purchases, so the
    horizon is one step (each step costs a pass of the library's prediction over everyone).
    """
    if discount == 0:
        return [horizon_days]
    ends = list(range(STEP_DAYS, horizon_days, STEP_DAYS))
    return [*ends, horizon_days]


def _with_params(model: Any, values: dict[str, float]) -> Any:
    import arviz as az
    import numpy as np
    import xarray as xr

    posterior = xr.Dataset(
        {LIBRARY_NAME.get(k, k): (("chain", "draw"), np.array([[v]])) for k, v in values.items()},
        coords={"chain": [0], "draw": [0]},
    )
    with quiet():
        model.build_model()
        model.idata = az.InferenceData(posterior=posterior)
    return model


def _values(array: Any) -> Any:
    """A prediction's values per customer (the single MAP draw)."""
    return array.mean(("chain", "draw")).values


def expected_new_customer_purchases(params: Params, ages: Any) -> Any:
    """A new customer's expected repeat purchases by each age (in periods), unconditional."""
    import numpy as np
    import pandas as pd

    ages = np.asarray(ages, dtype=float)
    unique, where = np.unique(ages, return_inverse=True)
    data = pd.DataFrame(
        {"customer_id": np.arange(len(unique)), "frequency": 0, "recency": 0.0, "T": 1.0}
    )
    bg = _with_params(_bgnbd_model(data), params.bgnbd)
    with quiet():
        values = bg.expected_purchases_new_customer(data, t=unique)
    return np.asarray(_values(values), dtype=float)[where]
