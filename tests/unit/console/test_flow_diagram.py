"""The flow diagram, drawn from the definition: every kind of step, labelled branches, counts."""

from __future__ import annotations

import re

import pytest

from lealta.automations import catalog
from lealta.automations.definition import load_definition
from lealta.console.flow_diagram import GoalFigures, StepCounts, draw, layout

EVERY_KIND = """
id: every-kind
name: Every kind
trigger: {type: event, event: Signed Up}
goal: {condition: {kind: purchased_since_entered}, step: thanks}
steps:
  - {id: hello, type: send, channel: email, template: welcome}
  - {id: pause, type: wait, duration: 1d12h}
  - id: opened
    type: if
    condition: {kind: message, template: welcome, action: opened}
    then: ab
    else: nudge
  - id: ab
    type: split
    branches: [{name: A, percent: 50, next: tag-a}, {name: B, percent: 50, next: score-b}]
  - {id: tag-a, type: tag, add: [curious], next: join}
  - {id: score-b, type: score, points: 5, next: join}
  - id: nudge
    type: wait_for_event
    event: Page Viewed
    timeout: 2d
    on_event: join
    on_timeout: bye
  - {id: join, type: voucher, kind: percent, value: 10, valid_days: 7}
  - {id: monday, type: wait_until, weekday: [mon], time: "09:00"}
  - {id: done, type: exit, reason: finished}
  - {id: bye, type: exit, reason: no interest}
  - {id: thanks, type: stage, to: Customer}
"""


def _svg(**counts: StepCounts) -> str:
    rules = load_definition(EVERY_KIND)
    return draw(
        rules,
        counts,
        href=lambda step: f"/journeys/every-kind/steps/{step}",
        goal=GoalFigures(converted=4, entered=20, revenue="240.00 EUR"),
    )


def test_every_step_is_drawn_as_a_link_to_its_page() -> None:
    svg = _svg()
    rules = load_definition(EVERY_KIND)
    for step in rules.steps:
        assert f'<a class="step" href="/journeys/every-kind/steps/{step.id}"' in svg
    for words in (
        "Send e-mail welcome",
        "Wait 1 day 12 hours",
        "If opened the e-mail welcome",
        "Split A 50% / B 50%",
        "Wait up to 2 days for “Page Viewed”",
        "Voucher 10%, valid 7 days",
        "Exit: finished",
        "Move to stage Customer",
    ):
        assert words in svg, words


def test_branches_are_labelled_with_how_many_took_them() -> None:
    svg = _svg(
        opened=StepCounts(10, 0, 10, 0, {"branch:then": 6, "branch:else": 4}),
        ab=StepCounts(6, 0, 6, 0, {"split:A": 2, "split:B": 4}),
        nudge=StepCounts(4, 1, 2, 0, {"event": 1, "timeout": 2}),
    )
    labels = re.findall(r'<text class="branch"[^>]*>([^<]+)</text>', svg)
    assert {"yes: 6", "no: 4", "A 50%: 2", "B 50%: 4", "event came: 1"} <= set(labels)
    assert "no event in 2 days: 2" in labels


def test_counts_and_the_goal_are_shown() -> None:
    svg = _svg(pause=StepCounts(entered=12, waiting=5, passed=7, left=0))
    assert "12 in · 5 waiting · 7 on · 0 left" in svg
    assert "Starts when the event “Signed Up” happens" in svg
    assert "4 converted (20.0%) · 240.00 EUR revenue" in svg


def test_a_join_sits_below_every_branch_leading_to_it_and_branches_take_other_columns() -> None:
    grid = layout(load_definition(EVERY_KIND))
    row = {step: cell[0] for step, cell in grid.cells.items()}
    assert row["join"] > max(row["tag-a"], row["score-b"], row["nudge"])
    assert grid.cells["tag-a"][1] != grid.cells["score-b"][1]
    assert len(set(grid.cells.values())) == len(grid.cells)  # no two steps in one place
    assert grid.cells["thanks"][1] > 0  # reached only by the goal: a lane of its own


def test_a_step_without_a_next_step_ends_the_run_there() -> None:
    svg = _svg()
    assert svg.count("<title>The run ends here</title>") == 1  # "thanks", the last step


@pytest.mark.parametrize("template", [info.id for info in catalog.templates()])
def test_every_shipped_workflow_is_drawn_without_overlaps(template: str) -> None:
    rules = catalog.load_template(template)
    grid = layout(rules)
    assert set(grid.cells) == {step.id for step in rules.steps}
    assert len(set(grid.cells.values())) == len(grid.cells)
    svg = draw(rules, {}, href=lambda step: f"/s/{step}")
    assert svg.startswith('<svg class="flow"')
    assert svg.endswith("</svg>")
