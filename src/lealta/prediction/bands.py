"""Churn-risk bands from the probability that a customer is still alive.

The bands, by P(alive) = the BG/NBD probability that the customer has not churned:

========  =============================================================================
band      meaning
========  =============================================================================
low       P(alive) ≥ 0.7: buying as usual
medium    0.3 ≤ P(alive) < 0.7: quiet for longer than their own rhythm; worth a nudge
high      P(alive) < 0.3: most likely gone; a win-back is the last chance
new       one purchase only: the BG/NBD model assumes a customer can only churn right
          after a purchase, so P(alive) is 1 for everyone without a repeat purchase and
          says nothing; their expected purchases (which fall as they stay quiet) do
========  =============================================================================
"""

from __future__ import annotations

from typing import Any

BANDS = ("low", "medium", "high", "new")
HIGH_BELOW = 0.3
LOW_FROM = 0.7


def churn_band(p_alive: Any, frequency: Any) -> Any:
    """The band per customer, for numpy arrays (or pandas Series) of equal length."""
    import numpy as np

    p = np.asarray(p_alive, dtype=float)
    band = np.where(p >= LOW_FROM, "low", np.where(p >= HIGH_BELOW, "medium", "high"))
    return np.where(np.asarray(frequency) > 0, band, "new").astype(object)
