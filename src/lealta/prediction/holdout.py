"""Honest validation: a fit on the calibration period against what customers did next.

Fader, Hardie & Lee (2005) judge the model by (1) the expected against the actual purchases in
the holdout period, averaged over customers with the same number of calibration repeat
purchases, and (2) the cumulative repeat purchases of all customers over time, calibration and
holdout together. Both are here, with the per-customer mean absolute error and the aggregate
error over the holdout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TOP_FREQUENCY = 7  # the table's last row gathers customers with 7 or more repeat purchases


@dataclass(frozen=True)
class HoldoutCheck:
    """Calibration/holdout comparison figures (purchases are repeat purchases)."""

    holdout_days: int
    customers: int
    actual: float
    predicted: float
    mae: float
    by_frequency: Any  # pandas: frequency label, customers, actual, predicted (means)
    tracking: Any  # pandas: period, actual, predicted (cumulative repeat purchases)

    @property
    def aggregate_error(self) -> float:
        """Predicted minus actual holdout purchases, relative to actual (0.05 = 5 % over)."""
        return (self.predicted - self.actual) / self.actual if self.actual else float("nan")


def compare(scored: Any, predicted: Any, holdout_days: int, tracking: Any) -> HoldoutCheck:
    """Figures from per-customer ``holdout_purchases`` (actual) and ``predicted`` arrays."""
    import numpy as np
    import pandas as pd

    actual = scored["holdout_purchases"].to_numpy(dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    label = np.minimum(scored["frequency"].to_numpy(), TOP_FREQUENCY)
    frame = pd.DataFrame({"frequency": label, "actual": actual, "predicted": predicted})
    table = frame.groupby("frequency").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    table = table.reset_index()
    table["frequency"] = [
        f"{f}+" if f == TOP_FREQUENCY else str(f) for f in table["frequency"].tolist()
    ]
    return HoldoutCheck(
        holdout_days=holdout_days,
        customers=len(frame),
        actual=float(actual.sum()),
        predicted=float(predicted.sum()),
        mae=float(np.abs(predicted - actual).mean()),
        by_frequency=table,
        tracking=tracking,
    )


def tracking_curve(actual_per_period: Any, cohort: Any, expected_by_age: Any, periods: int) -> Any:
    """Cumulative repeat purchases at the end of each period, actual and expected.

    ``actual_per_period``: pandas with ``period`` (1…) and ``repeat_purchases``;
    ``cohort``: a pandas Series, customers per first purchase, indexed by the first purchase's
    offset from the first day of data, in periods; ``expected_by_age``: a function from ages
    in periods (array) to a new customer's expected repeat purchases by that age.
    """
    import numpy as np
    import pandas as pd

    counts = (
        actual_per_period.set_index("period")["repeat_purchases"]
        .reindex(range(1, periods + 1), fill_value=0)
        .to_numpy(dtype=float)
    )
    offsets = np.asarray(cohort.index, dtype=float)
    sizes = np.asarray(cohort.to_numpy(), dtype=float)
    ends = np.arange(1, periods + 1, dtype=float)
    ages = np.maximum(ends[:, None] - offsets[None, :], 0.0)
    expected = expected_by_age(ages.ravel()).reshape(ages.shape) @ sizes
    return pd.DataFrame(
        {"period": ends.astype(int), "actual": np.cumsum(counts), "predicted": expected}
    )
