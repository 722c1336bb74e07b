"""Lifecycle stages and the rules that move contacts between them, as data. Pure.

The order of ``stages`` is the forward order. Event rules reuse the scoring rules' event
matching (:class:`lealta.scoring.rules.EventRule` and its conditions)::

    stages: [{name: Prospect}, {name: Visitor}, {name: Lead}, {name: Customer}]
    initial: Prospect
    rules:
      - {id: first-order, to: Customer, event: Order Completed}
      - {id: signed-up, to: Lead, events: [Signed Up, Form Submitted]}
      - {id: activity, to: Visitor, types: [page, screen, track]}
    inactivity:
      - {id: gone-quiet, to: Prospect, after_days: 365}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from lealta.scoring.rules import (
    Condition,
    EventRule,
    RuleBase,
    RuleIndex,
    ScoringEvent,
    as_number,
    conditions_hold,
    load_document,
    name_and_type,
    property_value,
)

_ACTIVITY = ["page", "screen", "track"]


class Stage(BaseModel):
    """One lifecycle stage, e.g. ``Customer``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    description: str = ""


class StageRule(EventRule):
    """Move a contact to stage ``to`` when an event matches.

    Besides the event match (``event``/``events``, ``type``/``types``, ``where``):
    ``from_stages`` limits the rule to contacts in those stages (empty: any);
    ``requires_traits`` are properties (an identify's traits) that must be present and not
    blank; ``min_orders`` needs ``facts["orders"] >= min_orders``. A rule only moves forward
    in the stage order unless ``backward`` is true.
    """

    to: str
    from_stages: list[str] = Field(default_factory=list)
    backward: bool = False
    requires_traits: list[str] = Field(default_factory=list)
    min_orders: int | None = Field(default=None, ge=0)

    def applies(self, event: ScoringEvent, facts: Mapping[str, Any]) -> bool:
        """Whether the event and the contact's facts satisfy the rule (stages aside).

        Parameters
        ----------
        event
            The event; identify traits are its ``properties``.
        facts
            What is known of the contact after the event, e.g. ``{"orders": 3}``.

        Returns
        -------
        bool
            True when the event matches and every trait and fact requirement holds.
        """
        return self.named(name_and_type(event)) and self.holds(event, facts)

    def holds(self, event: ScoringEvent, facts: Mapping[str, Any]) -> bool:
        """:meth:`applies` for an event whose name and type the rule wants
        (:meth:`lealta.scoring.rules.RuleIndex.named`)."""
        if self.where and not conditions_hold(self.where, event.properties):
            return False
        for trait in self.requires_traits:
            value = property_value(event.properties, trait)
            if value is None or (isinstance(value, str) and not value.strip()):
                return False
        if self.min_orders is not None:
            orders = as_number(facts.get("orders"))
            if orders is None or orders < self.min_orders:
                return False
        return True


class InactivityRule(RuleBase):
    """Move a contact to ``to`` after ``after_days`` without activity, evaluated by a sweep.

    ``from_stages`` limits the rule to contacts in those stages (empty: any). Inactivity rules
    may move in either direction of the stage order.
    """

    to: str
    after_days: int = Field(ge=1)
    from_stages: list[str] = Field(default_factory=list)


class _Moves:
    """A lifecycle model's candidate rules per event name, type and stage
    (:meth:`LifecycleModel.moving`); derived from the rules, so any two compare equal."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str | None, str, str], tuple[StageRule, ...]] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Moves)

    __hash__ = None  # type: ignore[assignment]


class LifecycleModel(BaseModel):
    """Stages in forward order, the stage of a new contact, and the rules between stages.

    Event ``rules`` are tried in order: the first that matches and yields a move wins.
    ``inactivity`` rules are tried in order by the sweep: the first that is due wins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: list[Stage] = Field(min_length=1)
    initial: str = "Prospect"
    rules: list[StageRule] = []
    inactivity: list[InactivityRule] = []

    _order: dict[str, int] = PrivateAttr(default_factory=dict)
    _index: RuleIndex[StageRule] = PrivateAttr(default_factory=lambda: RuleIndex(()))
    _moves: _Moves = PrivateAttr(default_factory=lambda: _Moves())

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        order: dict[str, int] = {}
        for index, stage in enumerate(self.stages):
            if stage.name in order:
                raise ValueError(f"duplicate stage {stage.name!r}")
            order[stage.name] = index
        known = ", ".join(order)
        if self.initial not in order:
            raise ValueError(f"initial stage {self.initial!r} is not a stage; known: {known}")
        seen: set[str] = set()
        rules: Iterable[StageRule | InactivityRule] = [*self.rules, *self.inactivity]
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            for name in [rule.to, *rule.from_stages]:
                if name not in order:
                    raise ValueError(f"rule {rule.id!r}: unknown stage {name!r}; known: {known}")
        self._order = order
        self._index = RuleIndex(self.rules)
        return self

    def named(self, event: ScoringEvent) -> tuple[StageRule, ...]:
        """The event rules wanting ``event``'s name and type, in order (their conditions,
        traits and facts unchecked: :meth:`StageRule.holds`)."""
        # the private state read directly: pydantic's attribute hook is slow on a hot path
        return self.__pydantic_private__["_index"].named(event)  # type: ignore[no-any-return,index]

    def moving(self, event: ScoringEvent, stage: str) -> tuple[StageRule, ...]:
        """The rules of :meth:`named` that may move a contact in ``stage``, in order: those
        allowing that stage and leading to another, forward unless ``backward`` (their
        conditions, traits and facts unchecked). Kept per name, type and stage: most events
        of a contact already moved leave nothing to test.

        Parameters
        ----------
        event
            The event.
        stage
            A stage of the model (the contact's, or ``initial`` for a new contact).

        Returns
        -------
        tuple[StageRule, ...]
            The candidate rules, in model order.

        Raises
        ------
        KeyError
            When ``stage`` is not a stage of the model.
        """
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        moves: dict[tuple[str | None, str, str], tuple[StageRule, ...]] = private["_moves"].kept
        key = (event.name, event.type, stage)
        found = moves.get(key)
        if found is None:
            order: dict[str, int] = private["_order"]
            here = order[stage]
            if len(moves) >= RuleIndex.LIMIT:
                moves.clear()
            found = moves[key] = tuple(
                rule
                for rule in self.named(event)
                if (not rule.from_stages or stage in rule.from_stages)
                and rule.to != stage
                and (order[rule.to] > here or rule.backward)
            )
        return found

    def index(self, stage: str) -> int:
        """The position of ``stage`` in the forward order.

        Parameters
        ----------
        stage
            A stage name.

        Returns
        -------
        int
            Its index in ``stages``.

        Raises
        ------
        KeyError
            When there is no such stage.
        """
        return self.__pydantic_private__["_order"][stage]  # type: ignore[no-any-return,index]

    def has_stage(self, stage: str) -> bool:
        """Whether ``stage`` is one of the model's stages.

        Parameters
        ----------
        stage
            A stage name.

        Returns
        -------
        bool
            True when the model has it.
        """
        return stage in self.__pydantic_private__["_order"]  # type: ignore[index]

    @classmethod
    def default(cls) -> LifecycleModel:
        """Prospect → Visitor → Lead → Customer → Loyal, and Inactive after 180 quiet days.

        Returns
        -------
        LifecycleModel
            Activity makes a Visitor; an identify with an e-mail or a sign-up makes a Lead;
            an order makes a Customer, the fifth a Loyal one. Inactive contacts come back as
            Visitors on any activity, or as Customers when they order.
        """
        return cls(
            stages=[
                Stage(name="Prospect", description="Known, but no interaction yet"),
                Stage(name="Visitor", description="Has visited, browsed or used the app"),
                Stage(name="Lead", description="Has given an e-mail or signed up"),
                Stage(name="Customer", description="Has ordered"),
                Stage(name="Loyal", description="Has ordered five times or more"),
                Stage(name="Inactive", description="No activity for 180 days"),
            ],
            initial="Prospect",
            rules=[
                StageRule(
                    id="reactivated-by-order",
                    to="Customer",
                    event="Order Completed",
                    from_stages=["Inactive"],
                    backward=True,
                ),
                StageRule(
                    id="reactivated",
                    to="Visitor",
                    types=_ACTIVITY,
                    from_stages=["Inactive"],
                    backward=True,
                ),
                StageRule(id="loyal", to="Loyal", event="Order Completed", min_orders=5),
                StageRule(id="ordered", to="Customer", event="Order Completed"),
                StageRule(
                    id="identified",
                    to="Lead",
                    type="identify",
                    requires_traits=["email"],
                ),
                StageRule(
                    id="signed-up",
                    to="Lead",
                    events=["Form Submitted", "Signed Up", "Subscribed", "Webinar Registered"],
                ),
                StageRule(id="active", to="Visitor", types=_ACTIVITY),
            ],
            inactivity=[
                InactivityRule(
                    id="inactive",
                    to="Inactive",
                    after_days=180,
                    from_stages=["Visitor", "Lead", "Customer", "Loyal"],
                ),
            ],
        )


def load_model(source: str | Mapping[str, Any]) -> LifecycleModel:
    """A lifecycle model from YAML/JSON text or a mapping.

    Parameters
    ----------
    source
        YAML or JSON text, or a mapping with ``stages``, ``initial``, ``rules``, ``inactivity``.

    Returns
    -------
    LifecycleModel
        The validated model.

    Raises
    ------
    InvalidInput
        When the text does not parse or the model is invalid; the message names the rule and
        the unknown stage.
    """
    return load_document(LifecycleModel, source)


__all__ = [
    "Condition",
    "InactivityRule",
    "LifecycleModel",
    "Stage",
    "StageRule",
    "load_model",
]
