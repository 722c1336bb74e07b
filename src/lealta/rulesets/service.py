"""Reading and replacing the rule sets (lead scoring, lifecycle) kept in the state store.

Until a user saves their own, the shipped defaults apply. Saving validates the whole document
first (a bad rule is refused with its name) and bumps the version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lealta.lifecycle.rules import LifecycleModel
from lealta.lifecycle.rules import load_model as load_lifecycle
from lealta.rulesets.tables import RuleSet
from lealta.scoring.rules import ScoringModel
from lealta.scoring.rules import load_model as load_scoring

SCORING = "scoring"
LIFECYCLE = "lifecycle"


@dataclass(frozen=True)
class Rules:
    """The rules in force."""

    scoring: ScoringModel
    lifecycle: LifecycleModel


def load_rules(session: Session) -> Rules:
    """The scoring and lifecycle models in force (stored, or the shipped defaults)."""
    return Rules(scoring_model(session), lifecycle_model(session))


def scoring_model(session: Session) -> ScoringModel:
    """The lead-scoring model in force."""
    row = session.get(RuleSet, SCORING)
    return load_scoring(row.body) if row else ScoringModel.default()


def lifecycle_model(session: Session) -> LifecycleModel:
    """The lifecycle model in force."""
    row = session.get(RuleSet, LIFECYCLE)
    return load_lifecycle(row.body) if row else LifecycleModel.default()


def version(session: Session, name: str) -> int:
    """The stored version of a rule set (0: the shipped default is in force)."""
    row = session.get(RuleSet, name)
    return row.version if row else 0


def save(session: Session, name: str, body: Mapping[str, Any], *, now: dt.datetime) -> int:
    """Validate and store a rule set; returns its new version."""
    model: ScoringModel | LifecycleModel = (
        load_scoring(dict(body)) if name == SCORING else load_lifecycle(dict(body))
    )
    document = model.model_dump(mode="json", exclude_defaults=False)
    row = session.get(RuleSet, name)
    if row is None:
        row = RuleSet(name=name, body=document, version=1, updated_at=now)
        session.add(row)
    else:
        row.body = document
        row.version += 1
        row.updated_at = now
    session.flush()
    return row.version
