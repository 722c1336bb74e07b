"""The scoring engine: fold events, in ``(occurred_at, key)`` order, into a score. Pure.

Only events that match at least one rule change the state: matching depends on the event
alone, so an event that matches nothing is a no-op wherever it falls in the history. That is
what makes the incremental path exact: when :func:`needs_recompute` says no, :func:`apply`
performs the very same float operations :func:`recompute` would, so both give equal floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lealta.errors import Conflict, InvalidInput
from lealta.scoring.rules import ScoringEvent, ScoringModel, ScoringRule, as_number

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Built in beside the model's rules: an event ``Score Adjusted`` with ``points`` adds them
# (decayed and clamped like any other points), so scores changed by workflows stay
# reproducible from the event history.
ADJUSTED = "Score Adjusted"
ADJUSTMENT_RULE = "adjustment"
_ADJUSTED_FOLDED = ADJUSTED.casefold()
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ScoreState:
    """A contact's score after the last event that matched a rule.

    ``score`` is the value as of ``as_of`` (full precision). ``times`` counts how often each
    rule has scored; ``period_points`` holds, per period-capped rule, the current bucket and
    the absolute points given in it; ``last_key`` is the key of the event at ``as_of``.
    """

    score: float = 0.0
    as_of: datetime | None = None
    times: dict[str, int] = field(default_factory=dict)
    period_points: dict[str, tuple[int, float]] = field(default_factory=dict)
    last_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The state as a JSON-able dict; :meth:`from_dict` reads it back exactly.

        Returns
        -------
        dict[str, Any]
            ``score``, ``as_of`` (ISO 8601 or None), ``times``, ``period_points`` (rule id to
            ``[bucket, points]``) and ``last_key``.
        """
        return {
            "score": self.score,
            "as_of": self.as_of.isoformat() if self.as_of is not None else None,
            "times": dict(self.times),
            "period_points": {rule: [b, p] for rule, (b, p) in self.period_points.items()},
            "last_key": self.last_key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreState:
        """A state from what :meth:`to_dict` wrote.

        Parameters
        ----------
        data
            The dict.

        Returns
        -------
        ScoreState
            The state.

        Raises
        ------
        InvalidInput
            When the dict is not a stored score state.
        """
        try:
            as_of = data.get("as_of")
            moment = datetime.fromisoformat(as_of) if as_of is not None else None
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("as_of has no time zone")
            last_key = data.get("last_key")
            return cls(
                score=float(data["score"]),
                as_of=moment.astimezone(UTC) if moment is not None else None,
                times={str(rule): int(n) for rule, n in data.get("times", {}).items()},
                period_points={
                    str(rule): (int(bucket), float(points))
                    for rule, (bucket, points) in data.get("period_points", {}).items()
                },
                last_key=str(last_key) if last_key is not None else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"not a stored score state: {exc}", field="score_state") from exc


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """Points one rule gave for one event, after caps, and the (clamped) score after them."""

    rule_id: str
    points: float
    score_after: float
    occurred_at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of applying events: the new state, what changed, thresholds crossed upward."""

    state: ScoreState
    changes: list[ScoreChange] = field(default_factory=list)
    crossed: list[float] = field(default_factory=list)


def _adjustment(event: ScoringEvent) -> float | None:
    """The points of a ``Score Adjusted`` event (a workflow's or an operator's change)."""
    if event.name is None or event.name.casefold() != _ADJUSTED_FOLDED:
        return None
    points = as_number(event.properties.get("points"))
    return points if points is not None and math.isfinite(points) else None


def _clamp(model: ScoringModel, score: float) -> float:
    if model.max_score is not None and score > model.max_score:
        score = model.max_score
    if model.min_score is not None and score < model.min_score:
        score = model.min_score
    return score


def _decayed(model: ScoringModel, state: ScoreState, moment: datetime) -> float:
    """The state's score decayed to ``moment`` (never grown when ``moment`` is earlier)."""
    score = state.score
    if model.half_life_days is not None and state.as_of is not None and moment > state.as_of:
        days = (moment - state.as_of) / _DAY
        score = score * 0.5 ** (days / model.half_life_days)
    return _clamp(model, score)


def _bucket(moment: datetime, period_days: int) -> int:
    return (moment - _EPOCH) // timedelta(days=period_days)


def _allowed(
    rule: ScoringRule,
    times: Mapping[str, int],
    period_points: Mapping[str, tuple[int, float]],
    moment: datetime,
) -> tuple[float, tuple[int, float] | None]:
    """Points the rule may give now, and its new period entry (None when it has no period)."""
    if rule.max_times is not None and times.get(rule.id, 0) >= rule.max_times:
        return 0.0, None
    if rule.max_points_per_period is None or rule.period_days is None:
        return rule.points, None
    bucket = _bucket(moment, rule.period_days)
    held_bucket, used = period_points.get(rule.id, (bucket, 0.0))
    if held_bucket != bucket:
        used = 0.0
    room = rule.max_points_per_period - used
    if room <= 0:
        return 0.0, None
    size = min(abs(rule.points), room)
    points = size if rule.points > 0 else -size
    return points, (bucket, used + size)


def needs_recompute(state: ScoreState, event: ScoringEvent) -> bool:
    """Whether ``event`` falls at or before the state's last event, so history must be refolded.

    Parameters
    ----------
    state
        The stored state.
    event
        The newly arrived event.

    Returns
    -------
    bool
        True when ``(event.occurred_at, event.key) <= (state.as_of, state.last_key)``; the
        caller then calls :func:`recompute` over the full history instead of :func:`apply`.
    """
    if state.as_of is None:
        return False
    if event.occurred_at != state.as_of:
        return event.occurred_at < state.as_of
    return state.last_key is not None and event.key <= state.last_key


def can_score(model: ScoringModel, event: ScoringEvent) -> bool:
    """Whether ``event`` may change a score: a rule wants its name and type (conditions
    aside), or it adjusts the score. One that may not leaves every state as it is, whenever it
    arrives: :func:`apply` returns the state unchanged and a refold skips it.

    Parameters
    ----------
    model
        The scoring model.
    event
        The event.

    Returns
    -------
    bool
        False when no state needs reading for it.
    """
    return bool(model.named(event)) or _adjustment(event) is not None


def apply(model: ScoringModel, state: ScoreState, event: ScoringEvent) -> Applied:
    """Apply one event that comes after every event already in ``state``.

    The score is decayed to the event's time, then every matching rule, in model order, adds
    its points after the ``max_times`` and period caps, and the score is clamped after each.
    An event that matches no rule leaves the state untouched.

    Parameters
    ----------
    model
        The scoring model.
    state
        The state before the event.
    event
        The event.

    Returns
    -------
    Applied
        The new state, one change per rule that gave points, and the thresholds ``t`` with
        ``score before (decayed) < t <= score after``.

    Raises
    ------
    Conflict
        When :func:`needs_recompute` is true for the event: applying it would be wrong.
    """
    if needs_recompute(state, event):
        raise Conflict(
            f"event {event.key!r} at {event.occurred_at.isoformat()} is not after the last "
            "scored event; recompute the score from the full history"
        )
    matched = model.matching(event)
    adjustment = _adjustment(event)
    if not matched and adjustment is None:
        return Applied(state=state)
    before = score = _decayed(model, state, event.occurred_at)
    times = dict(state.times)
    period_points = dict(state.period_points)
    changes: list[ScoreChange] = []
    for rule in matched:
        points, period_entry = _allowed(rule, times, period_points, event.occurred_at)
        if points == 0:
            continue
        score = _clamp(model, score + points)
        times[rule.id] = times.get(rule.id, 0) + 1
        if period_entry is not None:
            period_points[rule.id] = period_entry
        changes.append(ScoreChange(rule.id, points, score, event.occurred_at, event.key))
    if adjustment:
        score = _clamp(model, score + adjustment)
        changes.append(
            ScoreChange(ADJUSTMENT_RULE, adjustment, score, event.occurred_at, event.key)
        )
    new_state = ScoreState(
        score=score,
        as_of=event.occurred_at,
        times=times,
        period_points=period_points,
        last_key=event.key,
    )
    crossed = [t for t in model.thresholds if before < t <= score]
    return Applied(state=new_state, changes=changes, crossed=crossed)


def recompute(model: ScoringModel, events: Iterable[ScoringEvent]) -> Applied:
    """Fold a contact's whole history, sorted by ``(occurred_at, key)``, from a zero state.

    Parameters
    ----------
    model
        The scoring model.
    events
        Every event of the contact, in any order. A repeated key counts once (the first
        given wins), as a retried delivery would be stored once.

    Returns
    -------
    Applied
        The final state, every change and every upward threshold crossing, in time order.
    """
    unique: dict[str, ScoringEvent] = {}
    for event in events:
        unique.setdefault(event.key, event)
    state = ScoreState()
    changes: list[ScoreChange] = []
    crossed: list[float] = []
    for event in sorted(unique.values(), key=lambda e: (e.occurred_at, e.key)):
        step = apply(model, state, event)
        state = step.state
        changes.extend(step.changes)
        crossed.extend(step.crossed)
    return Applied(state=state, changes=changes, crossed=crossed)


def current_score(
    model: ScoringModel, state: ScoreState, now: datetime, *, ndigits: int | None = None
) -> float:
    """The score decayed from the state's last event to ``now``.

    Parameters
    ----------
    model
        The scoring model.
    state
        The stored state (it keeps full precision).
    now
        The moment to read the score at; earlier than ``state.as_of`` means no decay.
    ndigits
        Round the result for display; None (the default) keeps full precision.

    Returns
    -------
    float
        The decayed, clamped score.
    """
    score = _decayed(model, state, now)
    return round(score, ndigits) if ndigits is not None else score
