"""The advisor's cohort: the table of their students (with htmx, sorting and filtering swap the table
alone; without it, the same links and GET form load the page), its CSV export, and the cohort picture.

Only students who share their pathway with the advisor (an accepted, not ended assignment) are listed:
every read starts from `User.objects.applicants_visible_to`.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from pathway.access import role_required
from pathway.advising.cohort import (
    DEFAULT_SORT,
    PAGE_SIZE,
    SORTS,
    CohortFilter,
    cohort,
    cohort_ids,
    cohort_students,
    flag_label,
    next_deadline,
    rows_for,
    specialties_of,
    students_in_order,
    visible_students,
)
from pathway.advising.picture import coming_weeks, funnel
from pathway.advising.versions import cohort_version
from pathway.lib.times import ET
from pathway.models import User
from pathway.web.page_cache import cached

advisors = role_required(User.Role.ADVISOR, User.Role.ADMIN)


def _filter_form(request) -> CohortFilter:
    return CohortFilter(request.GET, specialties=specialties_of(request.user))


def _query(active: dict, **more) -> str:
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in {**active, **more}.items() if v not in (None, "")})
    return query.urlencode()


def _headers(form: CohortFilter) -> list[dict]:
    """Sortable column headings: each links to the other direction when it is the current sort."""
    current = form.value("sort") or DEFAULT_SORT
    headers = []
    for key, (label, _) in SORTS.items():
        state = "ascending" if current == key else "descending" if current == f"-{key}" else None
        next_sort = f"-{key}" if current == key else key
        headers.append(
            {"key": key, "label": label, "aria_sort": state, "query": _query(form.active(), sort=next_sort)}
        )
    return headers


# The query parameters the table depends on; anything else in the URL is not part of its cache key.
TABLE_PARAMS = (*CohortFilter.base_fields, "page")


def _table_context(request, now) -> dict:
    form = _filter_form(request)
    page = Paginator(cohort_ids(request.user, form, now=now), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "user": request.user,
        "form": form,
        "page": page,
        "rows": rows_for(request.user, students_in_order(list(page.object_list), now=now)),
        "headers": _headers(form),
        "filters": _query(form.active()),
        "sorted_filters": _query(form.active(), sort=form.value("sort")),
        "current_sort": form.value("sort"),
        "now": now,
    }


def _table_key(request, part: str) -> str:
    """Everything the cached table says: the viewer, the parameters (normalized: known ones, sorted), the
    cohort version (pathway/advising/versions.py) and the day (ET, the cohort's dates)."""
    params = QueryDict(mutable=True)
    for name in sorted(TABLE_PARAMS):
        if name in request.GET:
            params.setlist(name, request.GET.getlist(name))
    digest = hashlib.sha256(params.urlencode().encode()).hexdigest()[:24]
    today = timezone.now().astimezone(ET).date().isoformat()
    return f"cohort:{part}:{request.user.pk}:{cohort_version(request.user)}:{today}:{digest}"


@login_required
@advisors
@require_GET
def cohort_table(request):
    """The cohort dashboard (`advisor:cohort`); with htmx, the table partial alone. The content is cached
    per viewer (page_cache.cached) under the cohort's version, so a change of any student shows on the
    next request; the layout around it (CSP nonce, messages) never is. Each entry ends at the next
    deadline of the cohort, when a step becomes overdue."""
    table_only = request.htmx and not request.htmx.boosted
    part = "advisor/cohort.html#table" if table_only else "advisor/cohort.html#body"

    def build(now):
        html = render_to_string(part, _table_context(request, now))
        return html, next_deadline(request.user, now=now)

    html = mark_safe(cached(_table_key(request, part), build, now=timezone.now()))  # noqa: S308 - our template
    if table_only:
        return HttpResponse(html)
    return render(request, "advisor/cohort.html", {"content": html})


# Formula injection: a spreadsheet runs a cell that begins with one of these (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


EXPORT_COLUMNS = [
    "Student",
    "Email",
    "Applicant type",
    "Target Match",
    "Specialties",
    "Progress (%)",
    "Steps done",
    "Steps on the pathway",
    "Current phase",
    "Next deadline",
    "Next deadline (ET)",
    "Overdue",
    "Risk flags",
    "Interviews",
    "Last activity (UTC)",
]


def _export_row(row) -> list:
    s = row.student
    profile = getattr(s, "profile", None)
    target = str(s.interview_count or 0)
    if row.target:
        target += f"; target {row.target.interviews} by {row.target.by_date:%Y-%m-%d}"
    return [
        s.display_name,
        s.email,
        profile.get_applicant_type_display() if profile else "",
        str(profile.target_cycle) if profile else "",
        "; ".join(profile.specialties) if profile and profile.specialties else "",
        s.progress or 0,
        s.done or 0,
        s.total or 0,
        row.phase_label,
        s.next_title or "",
        f"{s.next_due.astimezone(ET):%Y-%m-%d %H:%M}" if s.next_due else "",
        s.overdue or 0,
        "; ".join(flag_label(f.code) for f in row.flags),
        target,
        f"{s.last_activity.astimezone(UTC):%Y-%m-%d %H:%M}" if s.last_activity else "",
    ]


@login_required
@advisors
@require_GET
@cache_control(private=True, no_store=True)
def cohort_csv(request):
    """The cohort table as CSV, every page, with the filters and sort applied."""
    form = _filter_form(request)
    rows = rows_for(request.user, cohort(request.user, form, now=timezone.now()))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cohort-{timezone.now():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(value) for value in _export_row(row)])
    return response


@login_required
@advisors
@require_GET
def cohort_picture(request):
    """The funnel of milestones passed and the coming weeks' deadlines, as SVG and as tables."""
    form = _filter_form(request)
    now = timezone.now()
    students = cohort_students(request.user, form)
    steps = funnel(students)
    weeks = coming_weeks(students, now=now)
    context = {
        "form": form,
        "steps": steps,
        "weeks": weeks,
        "filters": _query(form.active()),
        "students": visible_students(request.user).count() if not form.active() else None,
        "chart": funnel_chart(steps),
        "week_chart": week_chart(weeks),
    }
    return render(request, "advisor/cohort_picture.html", context)


BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH = 22, 8, 320, 360


def funnel_chart(steps) -> dict:
    """Geometry for the funnel SVG: one labelled bar per step, its length the share of students who
    passed it; the figures are printed beside each bar, so it reads without colour."""
    bars = []
    for index, step in enumerate(steps):
        y = index * (BAR_HEIGHT + GAP)
        bars.append(
            {
                "step": step,
                "y": y,
                "text_y": y + BAR_HEIGHT - 6,
                "width": round(BAR_WIDTH * step.percent / 100),
            }
        )
    return {
        "bars": bars,
        "height": max(len(bars) * (BAR_HEIGHT + GAP), BAR_HEIGHT),
        "label_width": LABEL_WIDTH,
        "bar_width": BAR_WIDTH,
        "bar_height": BAR_HEIGHT,
    }


def week_chart(weeks) -> dict:
    most = max((w.deadlines for w in weeks), default=0) or 1
    bars = []
    for index, week in enumerate(weeks):
        y = index * (BAR_HEIGHT + GAP)
        bars.append(
            {
                "week": week,
                "y": y,
                "text_y": y + BAR_HEIGHT - 6,
                "width": round(BAR_WIDTH * week.deadlines / most),
            }
        )
    return {
        "bars": bars,
        "height": max(len(bars) * (BAR_HEIGHT + GAP), BAR_HEIGHT),
        "label_width": 160,
        "bar_width": BAR_WIDTH,
        "bar_height": BAR_HEIGHT,
    }
