"""The cohort picture: how many students have passed each milestone (a funnel), and how many deadlines
fall in each of the coming weeks. Two grouped queries, whatever the size of the cohort."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from milestones.models import Milestone
from pathway.lib.times import ET, et_date

from .cohort import CLOSED, OPEN

WEEKS_AHEAD = 4


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    passed: int
    total: int  # students on whose pathway the step is

    @property
    def percent(self) -> int:
        return round(100 * self.passed / self.total) if self.total else 0


@dataclass(frozen=True)
class Week:
    starts: datetime
    deadlines: int
    titles: list[tuple[str, int]]  # (milestone title, how many students), busiest first


def funnel(students) -> list[Step]:
    """Each step on the students' pathways, in pathway order, with how many have passed it (done or
    waived). Contingencies (SOAP) are left out: passing them is not progress."""
    rows = (
        Milestone.objects.applicable()
        .filter(applicant__in=students.values("pk"), template__contingency=False)
        .values("template__key", "template__title", "template__order")
        .annotate(total=Count("pk"), passed=Count("pk", filter=Q(status__in=CLOSED)))
        .order_by("template__order", "template__key")
    )
    return [Step(r["template__key"], r["template__title"], r["passed"], r["total"]) for r in rows]


def coming_weeks(students, *, now: datetime, weeks: int = WEEKS_AHEAD) -> list[Week]:
    """Open deadlines in each of the next `weeks` weeks (from today, US Eastern, where Match deadlines
    are defined)."""
    today = et_date(now)
    start = datetime.combine(today, datetime.min.time(), tzinfo=ET)
    rows = list(
        Milestone.objects.filter(
            applicant__in=students.values("pk"),
            is_applicable=True,
            status__in=OPEN,
            template__contingency=False,
            due_at__gte=now,
            due_at__lt=start + timedelta(weeks=weeks),
        )
        .annotate(day=TruncDate("due_at", tzinfo=ET))
        .values("day", "template__title")
        .annotate(n=Count("pk"))
    )
    result = []
    for index in range(weeks):
        first = today + timedelta(weeks=index)
        last = first + timedelta(days=6)
        in_week = [r for r in rows if first <= r["day"] <= last]
        titles: dict[str, int] = {}
        for r in in_week:
            titles[r["template__title"]] = titles.get(r["template__title"], 0) + r["n"]
        result.append(
            Week(
                starts=datetime.combine(first, datetime.min.time(), tzinfo=ET),
                deadlines=sum(titles.values()),
                titles=sorted(titles.items(), key=lambda item: (-item[1], item[0])),
            )
        )
    return result
