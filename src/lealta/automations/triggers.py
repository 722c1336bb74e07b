"""Starting runs when events happen, and waking the runs that wait for them.

The tracking processor calls :meth:`Triggers.on_event` for each event it applies (and for the
events Lealta derives from it: stage changes, score thresholds). Trigger kinds that depend on
time rather than on one event (anniversaries, inactivity, schedules, segment entry after a
recomputation) are found set-wise by :mod:`lealta.automations.sweeps`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lealta.automations import service
from lealta.automations.definition import (
    CountInWindowTrigger,
    EventTrigger,
    ListJoinedTrigger,
    PageSequenceTrigger,
    ScoreThresholdTrigger,
    StageChangedTrigger,
    TagAddedTrigger,
    WorkflowDefinition,
)
from lealta.automations.tables import Run, Workflow
from lealta.events.tables import Event
from lealta.scoring.rules import ScoringEvent, conditions_hold

STAGE_CHANGED = "Lifecycle Stage Changed"
THRESHOLD_CROSSED = "Lead Score Threshold Crossed"


@dataclass(frozen=True)
class Live:
    """An active workflow and the definition of its current version."""

    workflow: Workflow
    rules: WorkflowDefinition


def load_live(session: Session) -> list[Live]:
    """The active workflows (one query for the workflows, one per definition)."""
    return [
        Live(workflow, service.definition(session, workflow.id))
        for workflow in session.scalars(select(Workflow).where(Workflow.status == "active"))
    ]


class Triggers:
    """Event triggers for one processor transaction."""

    def __init__(
        self,
        session: Session,
        live: list[Live],
        *,
        now: dt.datetime,
        defer_wakes: bool = False,
    ) -> None:
        self.session = session
        self.live = live
        self.now = now
        # with defer_wakes, waiting runs are woken by one statement in wake_deferred()
        self._woken: set[str] | None = set() if defer_wakes else None
        self.needs_history = any(
            item.rules.trigger.type in ("count_in_window", "page_sequence") for item in live
        )

    def on_event(self, contact_id: str, event: ScoringEvent) -> list[str]:
        """Enrol ``contact_id`` where ``event`` triggers a workflow; wake their waiting runs."""
        if not self.live:
            return []
        started = [
            run
            for item in self.live
            if self._fires(item.rules, contact_id, event)
            and (
                run := service.enroll(
                    self.session,
                    item.workflow,
                    item.rules,
                    contact_id,
                    entry_key=f"event:{event.key}",
                    now=self.now,
                    trigger=trigger_of(event),
                )
            )
        ]
        if self._woken is not None:
            self._woken.add(contact_id)
        else:
            self._wake([contact_id])
        return started

    def wake_deferred(self) -> None:
        """Wake the waiting runs of everyone offered an event since the last call (with
        ``defer_wakes``): what :meth:`on_event` does one contact at a time otherwise."""
        ids = sorted(self._woken or ())
        self._woken = set() if self._woken is not None else None
        for start in range(0, len(ids), 500):
            self._wake(ids[start : start + 500])

    def _wake(self, contact_ids: list[str]) -> None:
        self.session.execute(
            update(Run)
            .where(Run.contact_id.in_(contact_ids), Run.status == "waiting")
            .values(wake_at=self.now)
            .execution_options(synchronize_session=False)
        )

    def _fires(self, rules: WorkflowDefinition, contact_id: str, event: ScoringEvent) -> bool:
        trigger = rules.trigger
        name = (event.name or "").casefold()
        if isinstance(trigger, EventTrigger):
            return name == trigger.event.casefold() and conditions_hold(
                trigger.where, event.properties
            )
        if isinstance(trigger, ScoreThresholdTrigger):
            return name == THRESHOLD_CROSSED.casefold() and _same_number(
                event.properties.get("threshold"), trigger.threshold
            )
        if isinstance(trigger, StageChangedTrigger):
            return (
                name == STAGE_CHANGED.casefold()
                and (trigger.to is None or event.properties.get("to") == trigger.to)
                and (
                    trigger.from_stage is None or event.properties.get("from") == trigger.from_stage
                )
            )
        if isinstance(trigger, CountInWindowTrigger):
            if name != trigger.event.casefold() or not conditions_hold(
                trigger.where, event.properties
            ):
                return False
            reached = self._count(contact_id, trigger.event, event, trigger.window_days)
            return reached == trigger.count
        if isinstance(trigger, ListJoinedTrigger):
            return name == "list joined" and event.properties.get("list") == trigger.list
        if isinstance(trigger, TagAddedTrigger):
            return name == "tag added" and event.properties.get("tag") == trigger.tag
        if isinstance(trigger, PageSequenceTrigger):
            return event.type == "page" and self._path_done(
                contact_id, event, trigger.paths, trigger.within_minutes
            )
        return False

    def _count(self, contact_id: str, name: str, event: ScoringEvent, days: int) -> int:
        """Events named ``name`` of the contact in the ``days`` up to ``event`` (it included)."""
        since = event.occurred_at - dt.timedelta(days=days)
        stored = self.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.contact_id == contact_id,
                func.lower(Event.name) == name.casefold(),
                Event.occurred_at > since,
                Event.occurred_at <= event.occurred_at,
                Event.message_id != event.key,
            )
        )
        return int(stored or 0) + 1

    def _path_done(
        self, contact_id: str, event: ScoringEvent, paths: list[str], minutes: int
    ) -> bool:
        since = event.occurred_at - dt.timedelta(minutes=minutes)
        rows = self.session.execute(
            select(Event.properties)
            .where(
                Event.contact_id == contact_id,
                Event.type == "page",
                Event.occurred_at > since,
                Event.occurred_at < event.occurred_at,
            )
            .order_by(Event.occurred_at, Event.id)
        ).all()
        visited = [str((row[0] or {}).get("path", "")) for row in rows]
        visited.append(str(event.properties.get("path", "")))
        return _ends_with_sequence(visited, paths)


def _ends_with_sequence(visited: list[str], patterns: list[str]) -> bool:
    """Whether the visits, in order, contain the patterns as a subsequence ending at the last."""
    if not patterns or not visited or not fnmatch.fnmatch(visited[-1], patterns[-1]):
        return False
    wanted = len(patterns) - 2
    for path in reversed(visited[:-1]):
        if wanted < 0:
            break
        if fnmatch.fnmatch(path, patterns[wanted]):
            wanted -= 1
    return wanted < 0


def _same_number(value: object, expected: float) -> bool:
    try:
        return float(value) == float(expected)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def trigger_of(event: ScoringEvent) -> dict[str, Any]:
    """What a run keeps of the event that started it."""
    return {
        "event": event.name,
        "type": event.type,
        "properties": dict(event.properties),
        "at": event.occurred_at.isoformat(),
        "message_id": event.key,
    }
