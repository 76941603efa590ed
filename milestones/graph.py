"""Graph checks for the template DAG: prerequisite loops and deadline-anchor loops.

Pure functions over plain dicts, so the loader (YAML), the admin (forms) and the property tests share
one implementation and none of them needs the database to ask "is this a loop?".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .models import APPLICANT_DATE_ANCHORS, DeadlineKind

# Sanity bound for a deadline offset: nothing on the path is planned more than three years
# before or after its anchor, so a larger number is almost certainly a typo (days vs weeks).
MAX_OFFSET_DAYS = 3 * 366


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """The first loop found as a closed path ["a", "b", "a"], or None when the graph is acyclic.

    `edges[a]` are the nodes `a` points at (for prerequisites: what `a` requires). Iterative DFS so a
    long chain of templates cannot hit Python's recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = {}
    for start in sorted(edges):
        if colour.get(start, white) != white:
            continue
        path = [start]
        stack = [iter(sorted(edges.get(start, ())))]
        colour[start] = grey
        while stack:
            child = next(stack[-1], None)
            if child is None:
                colour[path.pop()] = black
                stack.pop()
                continue
            state = colour.get(child, white)
            if state == grey:
                return [*path[path.index(child) :], child]
            if state == white:
                colour[child] = grey
                path.append(child)
                stack.append(iter(sorted(edges.get(child, ()))))
    return None


def describe_cycle(path: list[str]) -> str:
    return " -> ".join(path)


def topological_order(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes ordered so that every node comes after the nodes it points at (requirements first)."""
    order: list[str] = []
    seen: set[str] = set()
    for start in sorted(edges):
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                order.append(node)
                stack.pop()
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return order


def anchor_problem(
    *, kind: str, anchor: str, offset: int, event_keys: set[str], template_keys: set[str]
) -> str:
    """Why a deadline rule makes no sense, in words an admin can act on; "" when it is fine."""
    if abs(offset) > MAX_OFFSET_DAYS:
        return f"An offset of {offset} days is more than three years; check the number (days, not weeks)."
    if kind == DeadlineKind.NONE:
        if anchor or offset:
            return "A milestone without a deadline cannot have an anchor or an offset."
        return ""
    if not anchor:
        return "Choose what the deadline is anchored to."
    if kind == DeadlineKind.EVENT and anchor not in event_keys:
        return f"Unknown cycle event {anchor!r}; known events: {', '.join(sorted(event_keys))}."
    if kind == DeadlineKind.MILESTONE and anchor not in template_keys:
        return f"Unknown milestone template {anchor!r}."
    if kind == DeadlineKind.APPLICANT and anchor not in APPLICANT_DATE_ANCHORS:
        return f"Unknown applicant date {anchor!r}; use one of: {', '.join(APPLICANT_DATE_ANCHORS)}."
    return ""


def graph_problems(
    *,
    templates: Mapping[str, Mapping],
    prerequisites: Mapping[str, Iterable[str]],
    event_keys: set[str],
) -> list[str]:
    """Every problem of a whole template graph (used before the loader writes anything).

    `templates[key]` holds deadline_kind / deadline_anchor / deadline_offset_days;
    `prerequisites[key]` are the keys it requires (hard and soft: a soft loop is just as senseless).
    """
    problems = []
    keys = set(templates)
    for key, requires in prerequisites.items():
        for missing in sorted(set(requires) - keys):
            problems.append(f"{key}: unknown prerequisite {missing!r}.")
        if key in requires:
            problems.append(f"{key}: a milestone cannot require itself.")
    loop = find_cycle({k: [r for r in v if r in keys] for k, v in prerequisites.items()})
    if loop:
        problems.append(f"Prerequisite loop: {describe_cycle(loop)}.")
    anchors = {}
    for key, rule in templates.items():
        problem = anchor_problem(
            kind=rule["deadline_kind"],
            anchor=rule["deadline_anchor"] or "",
            offset=rule["deadline_offset_days"] or 0,
            event_keys=event_keys,
            template_keys=keys,
        )
        if problem:
            problems.append(f"{key}: {problem}")
        if rule["deadline_kind"] == DeadlineKind.MILESTONE:
            anchors[key] = [rule["deadline_anchor"]]
    loop = find_cycle(anchors)
    if loop:
        problems.append(f"Deadline anchor loop: {describe_cycle(loop)}.")
    return problems


# --- A picture of the graph (the admin's template graph page) ---------------------------------------

BOX_WIDTH, BOX_HEIGHT = 210, 34
COLUMN_GAP, ROW_GAP, MARGIN = 70, 14, 10


@dataclass(frozen=True)
class Box:
    key: str
    title: str
    x: int
    y: int


@dataclass(frozen=True)
class Arrow:
    requires: str
    template: str
    kind: str
    path: str  # an SVG path from the right edge of `requires` to the left edge of `template`


@dataclass(frozen=True)
class GraphPicture:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]
    box_width: int = BOX_WIDTH
    box_height: int = BOX_HEIGHT


def layered_layout(nodes: Sequence[tuple[str, str]], links: Iterable[tuple[str, str, str]]) -> GraphPicture:
    """Boxes in columns by depth (a milestone one column right of its deepest prerequisite), in the
    given order within a column, and an arrow per (template, requires, kind) link. Pure, so it is
    tested without a database and rendered as SVG by a template."""
    links = [link for link in links if link[0] != link[1]]
    requires: dict[str, list[str]] = {key: [] for key, _ in nodes}
    for template, required, _kind in links:
        requires.setdefault(template, []).append(required)
    depth: dict[str, int] = {}
    for key in topological_order(requires):
        # A loop (refused on input) would leave a requirement without a depth yet: it counts as 0.
        depth[key] = 1 + max((depth.get(r, -1) for r in requires.get(key, ())), default=-1)
    rows: dict[int, int] = {}
    boxes: dict[str, Box] = {}
    for key, title in nodes:
        column = depth.get(key, 0)
        row = rows[column] = rows.get(column, -1) + 1
        x = MARGIN + column * (BOX_WIDTH + COLUMN_GAP)
        boxes[key] = Box(key, title, x, MARGIN + row * (BOX_HEIGHT + ROW_GAP))
    arrows = [
        Arrow(required, template, kind, _arrow_path(boxes[required], boxes[template]))
        for template, required, kind in links
        if template in boxes and required in boxes
    ]
    width = MARGIN * 2 + (max(depth.values(), default=0) + 1) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = MARGIN * 2 + max(rows.values(), default=0) * (BOX_HEIGHT + ROW_GAP) + BOX_HEIGHT
    return GraphPicture(width, height, list(boxes.values()), arrows)


def _arrow_path(start: Box, end: Box) -> str:
    x1, y1 = start.x + BOX_WIDTH, start.y + BOX_HEIGHT // 2
    x2, y2 = end.x - 4, end.y + BOX_HEIGHT // 2  # stop short of the box: room for the arrowhead
    bend = max((x2 - x1) // 2, 20)
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
