"""Why a person is in an audience or out of it, condition by condition.

Every node of the audience's condition tree is tested for the person with the very SQL the
refresh uses (:func:`lealta.conditions.sql.condition_test`), all in one query, so the
explanation can never disagree with the membership a refresh computes at the same moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.audiences import members, service
from lealta.audiences.definition import load_condition
from lealta.conditions import AllOf, AnyOf, Not
from lealta.conditions.explain import describe
from lealta.conditions.sql import condition_test, live
from lealta.contacts.tables import Contact
from lealta.errors import NotFound


@dataclass(frozen=True)
class Line:
    """One condition of the tree: where it is, what it tests, and whether it holds."""

    path: str
    depth: int
    kind: str
    test: str
    holds: bool


@dataclass(frozen=True)
class Explanation:
    """Why ``contact_id`` is in ``audience`` or not, at ``at``."""

    audience: str
    contact_id: str
    member: bool  # as of the latest refresh
    holds: bool  # now
    live: bool  # False: erased or merged into another profile (never a member)
    at: dt.datetime
    lines: list[Line]


def explain(session: Session, key: int | str, contact_id: str, *, now: dt.datetime) -> Explanation:
    """Test every condition of audience ``key``'s tree for ``contact_id`` at ``now``.

    Raises
    ------
    NotFound
        No such audience, or no such contact.
    """
    audience = service.get(session, key)
    condition = load_condition(audience.condition)
    nodes = list(_nodes(condition, "condition", 0))
    tests = [condition_test(node, now=now).label(f"n{i}") for i, (node, _, _) in enumerate(nodes)]
    row = session.execute(
        select(live().label("live"), *tests).where(Contact.id == contact_id)
    ).first()
    if row is None:
        raise NotFound(f"no contact {contact_id!r}")
    alive = bool(row[0])
    lines = [
        Line(path, depth, node.kind, describe(node), bool(row[i + 1]))
        for i, (node, path, depth) in enumerate(nodes)
    ]
    return Explanation(
        audience=audience.name,
        contact_id=contact_id,
        member=members.is_member(session, audience, contact_id),
        holds=alive and lines[0].holds,
        live=alive,
        at=now,
        lines=lines,
    )


def _nodes(node: Any, path: str, depth: int) -> Iterator[tuple[Any, str, int]]:
    yield node, path, depth
    if isinstance(node, AllOf | AnyOf):
        for index, child in enumerate(node.conditions):
            yield from _nodes(child, f"{path}.conditions.{index}", depth + 1)
    elif isinstance(node, Not):
        yield from _nodes(node.condition, f"{path}.condition", depth + 1)


def lines(found: Explanation) -> list[str]:
    """The explanation as text lines, indented by depth (the CLI's output)."""
    if not found.live:
        state = "out: the profile is erased or merged into another"
    else:
        state = "in" if found.holds else "out"
    stored = "a member" if found.member else "not a member"
    head = [
        f"{found.contact_id} is {state} of {found.audience!r} at {found.at:%Y-%m-%d %H:%M} UTC "
        f"({stored} as of the latest refresh)"
    ]
    return head + [
        f"{'  ' * line.depth}{'✓' if line.holds else '✗'} {line.test}" for line in found.lines
    ]
