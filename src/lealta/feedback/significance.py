"""Whether two rates differ by more than chance: the two-proportion z-test. Pure.

An A/B split sends people down two branches at random; each branch has ``n`` people of whom
``x`` did something (clicked, bought). :func:`compare` asks whether the branches' rates differ:

* the **pooled** proportion ``p = (x1 + x2) / (n1 + n2)`` estimates the common rate if there is
  no difference; ``se = sqrt(p (1 - p) (1/n1 + 1/n2))`` is the standard error of the difference;
* ``z = (x2/n2 - x1/n1) / se``, and the **two-sided** p-value is ``P(|Z| >= |z|)`` for a
  standard normal ``Z``, i.e. ``erfc(|z| / sqrt(2))``;
* the difference is **significant** at the 95 % level when ``p < 0.05``.

The test is the textbook large-sample one (each branch should have at least
:data:`MIN_EVENTS` successes and as many failures); below that the verdict says there is not
enough data yet instead of giving a number that would mislead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lealta.report.format import DASH

LEVEL = 0.95
MIN_EVENTS = 5  # successes and failures per branch for the normal approximation to hold


@dataclass(frozen=True)
class Arm:
    """One branch: its name, how many people it had (``n``) and how many of them acted."""

    name: str
    n: int
    x: int

    @property
    def rate(self) -> float | None:
        """``x / n``; ``None`` out of nobody."""
        return self.x / self.n if self.n else None


@dataclass(frozen=True)
class Comparison:
    """The test of ``b`` against ``a``: ``z``, the two-sided ``p_value`` (None when the test
    cannot be made) and whether the difference is significant at :data:`LEVEL`."""

    a: Arm
    b: Arm
    z: float | None
    p_value: float | None
    significant: bool
    enough: bool

    def verdict(self, measure: str = "click rate") -> str:
        """The result in words, with both rates and sample sizes, higher branch first:
        ``"B's click rate 4.1% vs A's 3.2%, n=5,210 and 5,190: significant at 95% (p = 0.02)"``.
        """
        high, low = (
            (self.b, self.a) if (self.b.rate or 0) >= (self.a.rate or 0) else (self.a, self.b)
        )
        rates = (
            f"{high.name}'s {measure} {_percent(high.rate)} vs {low.name}'s {_percent(low.rate)}, "
            f"n={high.n:,} and {low.n:,}"
        )
        if not self.enough or self.p_value is None:
            need = f"each branch needs {MIN_EVENTS} people who did and {MIN_EVENTS} who did not"
            return f"{rates}: not enough data yet ({need})"
        level = f"{LEVEL:.0%}"
        if self.significant:
            return f"{rates}: significant at {level} ({_p(self.p_value)})"
        return f"{rates}: not yet significant at {level} ({_p(self.p_value)})"


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """``(z, two-sided p-value)`` of the pooled two-proportion z-test of ``x2/n2`` against
    ``x1/n1``; ``None`` when it cannot be computed (an empty branch, or every person in both
    branches alike, so the standard error is 0)."""
    for x, n in ((x1, n1), (x2, n2)):
        if n < 0 or not 0 <= x <= n:
            raise ValueError(f"counts must satisfy 0 <= x <= n, got x={x}, n={n}")
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (x2 / n2 - x1 / n1) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def compare(a: Arm, b: Arm) -> Comparison:
    """Test ``b`` against ``a`` (see the module docstring)."""
    enough = all(min(arm.x, arm.n - arm.x) >= MIN_EVENTS for arm in (a, b))
    found = two_proportion_z(a.x, a.n, b.x, b.n)
    if found is None:
        return Comparison(a, b, None, None, False, enough)
    z, p_value = found
    return Comparison(a, b, z, p_value, enough and p_value < 1 - LEVEL, enough)


def _percent(rate: float | None) -> str:
    return DASH if rate is None else f"{rate:.1%}"


def _p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else "p = " + f"{p_value:.3f}".rstrip("0").rstrip(".")
