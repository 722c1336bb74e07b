"""Cluster profiles and readable names derived from them relative to the whole population.

Each of a cluster's means is put in a band by comparing it with the population's tertiles
(the 1/3 and 2/3 quantiles of the per-customer values):

* recency: ``mean <= q1/3`` is *recent*, ``mean >= q2/3`` is *lapsed*, otherwise *mid*;
* frequency: ``mean < 1.5`` (most bought once) is *one*, ``mean >= max(q2/3, 2)`` is *high*,
  otherwise *mid*; the absolute bounds matter when most customers bought once: both tertiles
  are then 1 and a cluster averaging 1.2 purchases would otherwise count as "regulars";
* monetary: ``mean >= q2/3`` is *high*, ``mean <= q1/3`` is *low*, otherwise *mid*;
* payment (when used): *late* when ``mean >= q2/3`` and ``mean >= 1`` day late, the day being a
  floor so that a population of punctual payers does not brand anyone late for hours.

The bands then read as a phrase, e.g. "lapsed one-timers", "slipping big spenders",
"late-paying high-value regulars"; see :func:`name_cluster`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from lealta.clustering.features import Features, IntArray

Band = Literal["low", "mid", "high"]

ONE_TIMER_MAX_MEAN_FREQUENCY = 1.5
REGULAR_MIN_MEAN_FREQUENCY = 2.0
LATE_PAYER_MIN_DAYS = 1.0

# (frequency band, monetary band) -> noun phrase; frequency "one" is spelled "low" here.
_NOUNS: dict[tuple[Band, Band], str] = {
    ("high", "high"): "high-value regulars",
    ("high", "mid"): "regulars",
    ("high", "low"): "low-spend regulars",
    ("mid", "high"): "big spenders",
    ("mid", "mid"): "occasional mid-spenders",
    ("mid", "low"): "occasional low-spenders",
    ("low", "high"): "big-ticket one-timers",
    ("low", "mid"): "one-timers",
    ("low", "low"): "low-spend one-timers",
}


@dataclass(frozen=True)
class Tertiles:
    """The 1/3 and 2/3 quantiles of one per-customer quantity."""

    low: float
    high: float

    def band(self, value: float) -> Band:
        """Return ``"low"`` if ``value <= low``, ``"high"`` if ``value >= high``, else ``"mid"``.

        When both tertiles are equal, ``low`` wins, so a value at the tie is never "high".
        """
        if value <= self.low:
            return "low"
        return "high" if value >= self.high else "mid"


@dataclass(frozen=True)
class Population:
    """Tertiles of the whole customer population that cluster means are compared with."""

    recency: Tertiles
    frequency: Tertiles
    monetary: Tertiles
    payment: Tertiles | None = None


def tertiles(values: pd.Series) -> Tertiles:
    """Return the 1/3 and 2/3 quantiles of ``values`` (linear interpolation)."""
    low, high = values.quantile([1 / 3, 2 / 3]).to_list()
    return Tertiles(low=float(low), high=float(high))


def describe_population(values: pd.DataFrame) -> Population:
    """Summarise per-customer ``recency``, ``frequency``, ``monetary`` [, ``payment``]."""
    payment = tertiles(values["payment"]) if "payment" in values.columns else None
    return Population(
        recency=tertiles(values["recency"]),
        frequency=tertiles(values["frequency"]),
        monetary=tertiles(values["monetary"]),
        payment=payment,
    )


def name_cluster(profile: pd.Series, population: Population) -> str:
    """Name one cluster from its ``mean_recency``, ``mean_frequency``, ``mean_monetary``.

    The name is ``[late-paying] [recency word] noun`` where the noun comes from the frequency
    and monetary bands (module docstring) and the recency word is

    * *recent* for recent one-timers (then spelt "first-timers") and recent non-regulars,
      but nothing for recent regulars, whose buying often already implies it;
    * *slipping* for mid recency when the cluster is valuable (high frequency or spend),
      because that is where waiting costs most; nothing for other mid-recency clusters;
    * *lapsed* for lapsed clusters.

    "late-paying" is added when ``mean_payment`` is present, the population has payment
    tertiles and the cluster's payment band is late.
    """
    recency = population.recency.band(float(profile["mean_recency"]))
    frequency = _frequency_band(float(profile["mean_frequency"]), population.frequency)
    monetary = population.monetary.band(float(profile["mean_monetary"]))
    noun = _NOUNS[(frequency, monetary)]
    words = [_recency_word(recency, frequency, monetary)]
    if recency == "low" and frequency == "low":
        noun = noun.replace("one-timers", "first-timers")
    if _is_late(profile, population):
        words.insert(0, "late-paying")
    return " ".join(word for word in [*words, noun] if word)


def name_clusters(profiles: pd.DataFrame, population: Population) -> list[str]:
    """Name every row of ``profiles``, in row order, making the names unique.

    A name already given to an earlier row gets the suffix " (2)", " (3)" ... in row order,
    so the same profiles in the same order always get the same names.
    """
    names: list[str] = []
    seen: dict[str, int] = {}
    for _, profile in profiles.iterrows():
        base = name_cluster(profile, population)
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base} ({seen[base]})"
        while name in names:  # a base name may itself look like "x (2)"
            seen[base] += 1
            name = f"{base} ({seen[base]})"
        names.append(name)
    return names


def _frequency_band(mean_frequency: float, population: Tertiles) -> Band:
    if mean_frequency < ONE_TIMER_MAX_MEAN_FREQUENCY:
        return "low"
    regular = max(population.high, REGULAR_MIN_MEAN_FREQUENCY)
    return "high" if mean_frequency >= regular else "mid"


def _recency_word(recency: Band, frequency: Band, monetary: Band) -> str:
    if recency == "high":
        return "lapsed"
    valuable = frequency == "high" or monetary == "high"
    if recency == "mid":
        return "slipping" if valuable else ""
    return "" if frequency == "high" else "recent"


def _is_late(profile: pd.Series, population: Population) -> bool:
    if population.payment is None or "mean_payment" not in profile.index:
        return False
    payment = float(profile["mean_payment"])
    if math.isnan(payment):
        return False
    return payment >= max(population.payment.high, LATE_PAYER_MIN_DAYS)


def build_profiles(
    labels: IntArray, features: Features, revenue: npt.NDArray[np.float64]
) -> pd.DataFrame:
    """Summarise and name each cluster of ``labels`` (numbered ``0 .. k-1``).

    Returns one row per cluster, in cluster order: ``cluster``, ``name``, ``customers``,
    ``customer_share`` (customers / all customers), ``revenue`` (sum of ``revenue``),
    ``revenue_share`` (revenue / all revenue) and ``mean_<feature>`` for every feature column,
    the mean of the untransformed (imputed) values.  Names come from :func:`name_clusters`
    against the tertiles of the whole population.
    """
    k = int(labels.max()) + 1
    size = np.bincount(labels, minlength=k)
    cluster_revenue = np.bincount(labels, weights=revenue, minlength=k)
    profiles = pd.DataFrame(
        {
            "cluster": np.arange(k, dtype=np.int64),
            "name": "",
            "customers": size.astype(np.int64),
            "customer_share": size / size.sum(),
            "revenue": cluster_revenue,
            "revenue_share": cluster_revenue / cluster_revenue.sum(),
        }
    )
    for column in features.columns:
        totals = np.bincount(labels, weights=features.values[column].to_numpy(), minlength=k)
        profiles[f"mean_{column}"] = totals / size
    profiles["name"] = name_clusters(profiles, describe_population(features.values))
    return profiles
