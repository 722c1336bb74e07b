"""A workflow drawn as an inline SVG flow chart, from its definition and live counts. Pure.

Layout, top to bottom: the trigger, then the steps. A step's row is the longest path to it from
the first step (arrows that loop back are left out of that count, so a join sits below every
branch leading to it); the first target of a step stays in its column and every other branch
goes to the next column on the right free at its row. Steps no path reaches (a goal's own
step) get a lane of their own.
Each step is a link to its page (focusable by keyboard) and shows its counts: entered, waiting
there now, passed (went on) and left (runs that ended there); each branch arrow shows its label
and how many took it. The goal's conversions and revenue head the chart beside the trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape

from lealta.automations import definition as d
from lealta.automations import wording as words
from lealta.report.drawing import truncate

BOX_W, BOX_H = 250, 78
GAP_X, GAP_Y = 36, 50
MARGIN = 16
HEAD_H = 62
END_R = 9
# Fill, border: waits are calm, sends stand out, branches are amber, exits grey.
COLOURS = {
    "send": ("#eff6ff", "#1d4ed8"),
    "wait": ("#f8fafc", "#64748b"),
    "branch": ("#fffbeb", "#b45309"),
    "exit": ("#f3f4f6", "#4b5563"),
    "action": ("#ecfdf5", "#047857"),
}


@dataclass(frozen=True)
class StepCounts:
    """Live figures of one step: runs that ``entered`` it, are ``waiting`` there now, ``passed``
    (went on) and ``left`` (ended there); ``branches`` counts each outcome label taken."""

    entered: int = 0
    waiting: int = 0
    passed: int = 0
    left: int = 0
    branches: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GoalFigures:
    """The goal's figures: runs that reached it, out of ``entered``, and their revenue (text)."""

    converted: int
    entered: int
    revenue: str = ""


@dataclass(frozen=True)
class Edge:
    """An arrow from step ``source`` to ``target`` (None: the run ends) labelled ``label``."""

    source: str
    target: str | None
    label: str


@dataclass
class Layout:
    """Where each step sits (row, column), the arrows, and the grid's size."""

    cells: dict[str, tuple[int, int]]
    edges: list[Edge]
    rows: int
    columns: int
    back: set[tuple[str, str]] = field(default_factory=set)


def layout(rules: d.WorkflowDefinition) -> Layout:
    """The grid position of every step and the arrows between them (see the module docstring)."""
    targets = {s.id: rules.successors(s.id) for s in rules.steps}
    order, back = _walk(rules, targets)
    rank = _ranks(order, targets, back)
    cells: dict[str, tuple[int, int]] = {}
    taken: set[tuple[int, int]] = set()

    def place(step_id: str, column: int) -> None:
        row = rank[step_id]
        while (row, column) in taken:
            column += 1
        cells[step_id] = (row, column)
        taken.add((row, column))
        first = True
        for target in targets[step_id].values():
            if target is None or target in cells:
                continue
            place(target, column if first else column + 1)
            first = False

    for root in order:
        if root not in cells:
            place(root, 0 if not cells else max(c for _, c in taken) + 1)
    edges = [
        Edge(source, target, label)
        for source, found in targets.items()
        for label, target in found.items()
    ]
    rows = max((r for r, _ in cells.values()), default=0) + 1
    columns = max((c for _, c in cells.values()), default=0) + 1
    return Layout(cells, edges, rows, columns, back)


def _walk(
    rules: d.WorkflowDefinition, targets: Mapping[str, Mapping[str, str | None]]
) -> tuple[list[str], set[tuple[str, str]]]:
    """Steps in depth-first order from the first (then the goal's step, then the rest), and
    the arrows that loop back to a step on the path."""
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    seen: set[str] = set()
    roots = [rules.first_step]
    if rules.goal is not None and rules.goal.step is not None:
        roots.append(rules.goal.step)
    roots += [s.id for s in rules.steps]
    for root in roots:
        if root in seen:
            continue
        stack: list[tuple[str, list[str]]] = [(root, _next(targets, root))]
        seen.add(root)
        order.append(root)
        path = {root}
        while stack:
            node, pending = stack[-1]
            if not pending:
                stack.pop()
                path.discard(node)
                continue
            target = pending.pop(0)
            if target in path:
                back.add((node, target))
            elif target not in seen:
                seen.add(target)
                order.append(target)
                path.add(target)
                stack.append((target, _next(targets, target)))
    return order, back


def _next(targets: Mapping[str, Mapping[str, str | None]], step_id: str) -> list[str]:
    return [t for t in targets[step_id].values() if t is not None]


def _ranks(
    order: list[str],
    targets: Mapping[str, Mapping[str, str | None]],
    back: set[tuple[str, str]],
) -> dict[str, int]:
    """Each step's row: the longest forward path to it from a root (roots at row 0)."""
    rank = dict.fromkeys(order, 0)
    for _ in range(len(order)):  # longest paths in a DAG settle within |V| rounds
        changed = False
        for source in order:
            for target in _next(targets, source):
                if (source, target) not in back and rank[target] < rank[source] + 1:
                    rank[target] = rank[source] + 1
                    changed = True
        if not changed:
            break
    return rank


def _kind(step: d.Step) -> str:
    if isinstance(step, d.SendStep):
        return "send"
    if isinstance(step, d.WaitStep | d.WaitUntilStep | d.WaitForEventStep):
        return "wait"
    if isinstance(step, d.IfStep | d.SplitStep):
        return "branch"
    if isinstance(step, d.ExitStep):
        return "exit"
    return "action"


def _box_xy(cell: tuple[int, int]) -> tuple[float, float]:
    row, column = cell
    return MARGIN + column * (BOX_W + GAP_X), MARGIN + HEAD_H + GAP_Y + row * (BOX_H + GAP_Y)


def draw(
    rules: d.WorkflowDefinition,
    counts: Mapping[str, StepCounts],
    *,
    href: Callable[[str], str],
    goal: GoalFigures | None = None,
) -> str:
    """The workflow as an ``<svg>`` flow chart (see the module docstring).

    ``counts`` gives each step's figures (missing: zeros); ``href(step_id)`` the page a step
    links to; ``goal`` the goal's figures when the workflow has a goal.
    """
    grid = layout(rules)
    width = MARGIN * 2 + grid.columns * BOX_W + (grid.columns - 1) * GAP_X
    height = MARGIN * 2 + HEAD_H + GAP_Y + grid.rows * (BOX_H + GAP_Y)
    label = f"Flow of the workflow {rules.name}"
    parts = [
        f'<svg class="flow" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="group" aria-label="{escape(label)}" font-size="13">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>',
    ]
    parts.append(_head(rules, goal, width))
    first = grid.cells[rules.first_step]
    fx, fy = _box_xy(first)
    parts.append(_line(fx + BOX_W / 2, MARGIN + HEAD_H, fx + BOX_W / 2, fy, ""))
    for edge in grid.edges:
        parts.append(_edge(rules, grid, edge, counts))
    for step in rules.steps:
        parts.append(_box(step, grid.cells[step.id], counts.get(step.id, StepCounts()), href))
    parts.append("</svg>")
    return "".join(parts)


def _head(rules: d.WorkflowDefinition, goal: GoalFigures | None, width: int) -> str:
    """The trigger (and the goal with its figures) across the top."""
    text = f"Starts when {words.trigger(rules.trigger)}"
    lines = [
        f'<g class="trigger"><rect x="{MARGIN}" y="{MARGIN}" width="{width - 2 * MARGIN}" '
        f'height="{HEAD_H}" rx="10" fill="#111827"/>',
        f'<text x="{MARGIN + 14}" y="{MARGIN + 24}" fill="#f9fafb" font-weight="600">'
        f"{escape(truncate(text, 90))}</text>",
    ]
    if rules.goal is not None:
        reached = f"Goal: {words.condition(rules.goal.condition)}"
        if goal is not None:
            rate = f" ({goal.converted / goal.entered:.1%})" if goal.entered else ""
            reached += f" · {goal.converted:,} converted{rate}"
            if goal.revenue:
                reached += f" · {goal.revenue} revenue"
        lines.append(
            f'<text x="{MARGIN + 14}" y="{MARGIN + 46}" fill="#fde68a">'
            f"{escape(truncate(reached, 110))}</text>"
        )
    lines.append("</g>")
    return "".join(lines)


def _box(
    step: d.Step, cell: tuple[int, int], figures: StepCounts, href: Callable[[str], str]
) -> str:
    x, y = _box_xy(cell)
    fill, stroke = COLOURS[_kind(step)]
    title = f"{words.KINDS.get(step.type, step.type)} · {step.id}"
    what = words.step(step)
    numbers = (
        f"{figures.entered:,} in · {figures.waiting:,} waiting · "
        f"{figures.passed:,} on · {figures.left:,} left"
    )
    tip = (
        f"{title}: {what}. {figures.entered:,} entered, {figures.waiting:,} waiting here now, "
        f"{figures.passed:,} went on, {figures.left:,} ended here"
    )
    return (
        f'<a class="step" href="{escape(href(step.id))}" data-step="{escape(step.id)}">'
        f"<title>{escape(tip)}</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="1.5"/>'
        f'<text x="{x + 10}" y="{y + 20}" font-size="12" fill="{stroke}" font-weight="600">'
        f"{escape(truncate(title, 32))}</text>"
        f'<text x="{x + 10}" y="{y + 41}" fill="#111827">{escape(truncate(what, 31))}</text>'
        f'<text x="{x + 10}" y="{y + 64}" font-size="11.5" fill="#374151">'
        f"{escape(numbers)}</text></a>"
    )


def _edge(
    rules: d.WorkflowDefinition, grid: Layout, edge: Edge, counts: Mapping[str, StepCounts]
) -> str:
    step = rules.step(edge.source)
    sx, sy = _box_xy(grid.cells[edge.source])
    label = words.branch(step, edge.label)
    taken = counts.get(edge.source, StepCounts()).branches.get(edge.label)
    if label and taken is not None:
        label = f"{label}: {taken:,}"
    elif label:
        label = f"{label}: 0"
    start_x, start_y = sx + BOX_W / 2, sy + BOX_H
    if edge.target is None:  # the run ends after this step
        end_y = start_y + GAP_Y / 2
        return _line(start_x, start_y, start_x, end_y - END_R, label) + (
            f'<circle cx="{start_x}" cy="{end_y}" r="{END_R}" fill="#4b5563">'
            "<title>The run ends here</title></circle>"
        )
    tx, ty = _box_xy(grid.cells[edge.target])
    end_x = tx + BOX_W / 2
    if (edge.source, edge.target) in grid.back or ty <= sy:  # loops back: round the right side
        right = max(sx, tx) + BOX_W + GAP_X / 2
        path = f"M{start_x},{start_y} V{start_y + 10} H{right} V{ty - 12} H{end_x} V{ty}"
        return _path(path, label, right + 4, start_y + 24)
    if abs(end_x - start_x) < 1:
        return _line(start_x, start_y, end_x, ty, label)
    # Down in the source's column to just above the target's row, then across: the arrow
    # never runs through the boxes of the target's column.
    bend = ty - GAP_Y / 2
    path = f"M{start_x},{start_y} V{bend} H{end_x} V{ty}"
    if bend > start_y + GAP_Y / 2 + 1:
        return _path(path, label, start_x + 6, start_y + 18)
    return _path(path, label, end_x + 6, bend + 16)


def _line(x1: float, y1: float, x2: float, y2: float, label: str) -> str:
    return _path(
        f"M{x1},{y1} V{y2}" if x1 == x2 else f"M{x1},{y1} L{x2},{y2}", label, x1 + 6, y1 + 18
    )


def _path(d_attr: str, label: str, lx: float, ly: float) -> str:
    text = (
        f'<text class="branch" x="{lx:.1f}" y="{ly:.1f}" font-size="12" fill="#92400e" '
        f'font-weight="600">{escape(label)}</text>'
        if label
        else ""
    )
    return (
        f'<path d="{d_attr}" fill="none" stroke="#6b7280" stroke-width="1.5" '
        f'marker-end="url(#arrow)"/>{text}'
    )
