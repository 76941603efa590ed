"""The pathway on a time axis, laid out on the server for an SVG the template draws (no JavaScript).

Every row's display values (link, dates in words, coordinates as the SVG prints them) are built here once,
so the template does no URL reversing, date formatting or number formatting per row.

One row per dated milestone, grouped by phase; the axis runs from a month before today to the target
cycle's residency start. Anything earlier (overdue or done long ago) sits in an "Earlier" column at the
left edge, anything after residency start in a "Later" column at the right edge. Cycle events are
vertical lines with their labels turned upright in a header band, nudged apart when they crowd.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.template.defaultfilters import floatformat

from milestones.models import CycleEvent, Milestone, Phase
from pathway.lib.times import today_in

from .dashboard import Row, applicant_milestone_url, local_date

RESIDENCY_START = "residency_start"
LOOK_BACK_DAYS = 30

WIDTH = 1100
LABEL_WIDTH = 300  # milestone titles
GUTTER = 60  # "Earlier" and "Later" columns
HEADER = 220  # upright event labels and month ticks
ROW = 24
PHASE_ROW = 30
FOOTER = 16
LABEL_CHARS = 44
EVENT_LABEL_CHARS = 28
EVENT_LABEL_GAP = 13  # px between two upright event labels


@dataclass
class Item:
    milestone: Milestone
    day: date
    x: float
    y: float
    status: str  # CSS modifier: not_started, in_progress, done, waived, overdue
    label: str
    when: str  # "due" or "done"
    href: str
    edge: str = ""  # "earlier" | "later" | ""
    projected: bool = False  # a projected deadline (a completion date never is)
    day_text: str = ""  # "j M Y"
    status_text: str = ""  # in the chart's tooltip: "overdue", "in progress", ...
    status_label: str = ""  # in the list's badge: "Overdue", "In progress", ...
    x_text: str = ""  # x as the SVG prints it, one decimal

    @property
    def row_top(self) -> float:
        return self.y - ROW / 2

    @property
    def text_y(self) -> float:
        return self.y + 4


@dataclass
class PhaseRow:
    label: str
    y: float


@dataclass
class EventLine:
    event: CycleEvent
    day: date
    x: float
    label_x: float
    label: str
    when: str = ""  # the event's moment on the applicant's clock, "j M Y, g:i A T"
    x_text: str = ""
    label_x_text: str = ""


@dataclass
class ListedEvent:
    """A cycle event in the list under the chart (every event of the cycle, in the span or not)."""

    event: CycleEvent
    at_iso: str
    day_text: str  # "j M Y" on the applicant's clock


@dataclass
class Tick:
    x: float
    label: str
    major: bool
    x_text: str = ""


@dataclass
class Timeline:
    start: date
    end: date
    today: date
    width: int = WIDTH
    height: int = 0
    plot_left: float = LABEL_WIDTH + GUTTER
    plot_right: float = WIDTH - GUTTER
    header: int = HEADER
    items: list[Item] = field(default_factory=list)
    phases: list[PhaseRow] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    today_x: float = 0
    undated: list[Row] = field(default_factory=list)
    listed_events: list[ListedEvent] = field(default_factory=list)

    @property
    def start_text(self) -> str:
        return local_date(self.start, "j M Y")

    @property
    def end_text(self) -> str:
        return local_date(self.end, "j M Y")

    @property
    def today_x_text(self) -> str:
        return _x_text(self.today_x)  # three uses in one place on the page: not worth a field

    @property
    def earlier_left(self) -> float:
        return LABEL_WIDTH

    @property
    def earlier_x(self) -> float:
        return LABEL_WIDTH + GUTTER / 2

    @property
    def later_x(self) -> float:
        return WIDTH - GUTTER / 2

    @property
    def body_bottom(self) -> float:
        return self.height - FOOTER

    @property
    def body_height(self) -> float:
        return self.body_bottom - self.header

    @property
    def tick_y(self) -> float:
        return self.header - 8

    @property
    def event_top(self) -> float:
        return self.header - 24

    @property
    def event_label_y(self) -> float:
        return self.header - 30

    @property
    def today_label_y(self) -> float:
        return self.height - 3

    @property
    def gutter_width(self) -> int:
        return GUTTER

    @property
    def guide_start(self) -> float:
        return LABEL_WIDTH - 4

    @property
    def items_by_date(self) -> list[Item]:
        return sorted(self.items, key=lambda item: item.day)

    def x_of(self, day: date) -> tuple[float, str]:
        if day < self.start:
            return self.earlier_x, "earlier"
        if day > self.end:
            return self.later_x, "later"
        span = max((self.end - self.start).days, 1)
        return self.plot_left + (day - self.start).days / span * (self.plot_right - self.plot_left), ""


def _x_text(x: float) -> str:
    """A coordinate as the SVG prints it: what `|floatformat:1` gives, once rather than per use."""
    return floatformat(x, 1)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def milestone_day(milestone: Milestone, tz: zoneinfo.ZoneInfo) -> tuple[date, str] | None:
    """Where a milestone sits: its completion date once done, else its deadline (local day)."""
    if milestone.status == Milestone.Status.DONE and milestone.completed_on:
        return milestone.completed_on, "done"
    if milestone.due_at:
        return milestone.due_at.astimezone(tz).date(), "due"
    return None


def month_ticks(timeline: Timeline) -> list[Tick]:
    ticks = []
    day = date(timeline.start.year, timeline.start.month, 1)
    while day <= timeline.end:
        x, _ = timeline.x_of(day)
        # A label under the "Later" heading would overlap it; the line alone still marks the month.
        if day >= timeline.start and x < timeline.plot_right - 24:
            major = day.month == 1 or not ticks
            ticks.append(Tick(x, day.strftime("%b %Y") if major else day.strftime("%b"), major, _x_text(x)))
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return ticks


def build_timeline(
    *,
    milestones: list[Milestone],
    events: list[CycleEvent],
    tz: zoneinfo.ZoneInfo,
    now: datetime,
    href: Callable[[Milestone], str] | None = None,
) -> Timeline:
    """Lay out `milestones` (with templates, in pathway order) and the target cycle's `events`.
    `href(milestone)` is the link of a row: the applicant's own milestone page unless given."""
    if href is None:
        url = applicant_milestone_url()
        href = lambda m: url.of(m.template.key)  # noqa: E731
    timeline = _frame(milestones, events, tz, now)
    bottom = _place_milestones(timeline, milestones, tz, now, href)
    timeline.height = int(bottom + FOOTER)
    _place_events(timeline, events, tz)
    timeline.listed_events = [
        ListedEvent(event, event.at.isoformat(), local_date(event.at, "j M Y", tz)) for event in events
    ]
    timeline.ticks = month_ticks(timeline)
    return timeline


def _frame(
    milestones: list[Milestone], events: list[CycleEvent], tz: zoneinfo.ZoneInfo, now: datetime
) -> Timeline:
    """The span: a month back from today to residency start (or the last deadline, or a year ahead)."""
    today = today_in(tz, now)
    ends = [e.at.astimezone(tz).date() for e in events if e.key == RESIDENCY_START]
    dated_days = [m.due_at.astimezone(tz).date() for m in milestones if m.due_at]
    end = ends[0] if ends else max(dated_days + [today + timedelta(days=365)])
    end = max(end, today + timedelta(days=60))
    timeline = Timeline(start=today - timedelta(days=LOOK_BACK_DAYS), end=end, today=today)
    timeline.today_x, _ = timeline.x_of(today)
    return timeline


def _place_milestones(timeline: Timeline, milestones, tz: zoneinfo.ZoneInfo, now: datetime, href) -> float:
    """One row per dated milestone under a row per phase; undated ones are listed apart. Returns the bottom y."""
    y = HEADER
    phase_labels = dict(Phase.choices)
    current_phase = None
    for milestone in milestones:
        placed = milestone_day(milestone, tz)
        if placed is None:
            timeline.undated.append(Row(milestone, href(milestone), milestone.get_status_display()))
            continue
        if milestone.template.phase != current_phase:
            current_phase = milestone.template.phase
            timeline.phases.append(
                PhaseRow(phase_labels.get(current_phase, current_phase), y + PHASE_ROW - 9)
            )
            y += PHASE_ROW
        timeline.items.append(_item(timeline, milestone, placed, y + ROW / 2, now, href))
        y += ROW
    return y


def _item(
    timeline: Timeline, milestone: Milestone, placed: tuple[date, str], y: float, now: datetime, href
) -> Item:
    day, when = placed
    status = milestone.status
    if milestone.is_open and milestone.due_at and milestone.due_at < now:
        status = "overdue"
    x, edge = timeline.x_of(day)
    title = shorten(milestone.template.title, LABEL_CHARS)
    shown = "Overdue" if status == "overdue" else milestone.get_status_display()
    return Item(
        milestone,
        day,
        x,
        y,
        status,
        title,
        when,
        href(milestone),
        edge,
        projected=when == "due" and milestone.due_projected,
        day_text=local_date(day, "j M Y"),
        status_text=shown.lower(),
        status_label=shown,
        x_text=_x_text(x),
    )


def _place_events(timeline: Timeline, events: list[CycleEvent], tz: zoneinfo.ZoneInfo) -> None:
    """A vertical line per cycle event in the span; labels are nudged apart so they never overlap."""
    previous_label_x = -EVENT_LABEL_GAP
    for event in sorted(events, key=lambda e: e.at):
        day = event.at.astimezone(tz).date()
        if not timeline.start <= day <= timeline.end:
            continue
        x, _ = timeline.x_of(day)
        label_x = max(x, previous_label_x + EVENT_LABEL_GAP)
        previous_label_x = label_x
        label = shorten(event.title, EVENT_LABEL_CHARS)
        when = local_date(event.at, "j M Y, g:i A T", tz)
        timeline.events.append(EventLine(event, day, x, label_x, label, when, _x_text(x), _x_text(label_x)))
