"""What the applicant's pages show: the dashboard (and an advisor's read-only copy of it), the progress
figures, and the milestone page. Reads only, each in a fixed number of queries whatever the length of the
pathway or the number of attempts and documents.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe

from milestones import rules as rule_checks
from milestones.audience import for_audience
from milestones.guidance import render_guidance
from milestones.models import (
    ApplicantProfile,
    DeadlineKind,
    EvidenceKind,
    ExamAttempt,
    Milestone,
    Phase,
    TemplatePrerequisite,
    USCEEntry,
)
from milestones.projections import expected_result_date, usce_months_by_kind, usce_planned_months
from milestones.reachability import judge_reachability
from milestones.reference import ReferenceData, reference_data
from milestones.risks import RED, is_task, pathway_risks
from milestones.sources import source_kind
from milestones.versions import PageState
from pathway.access import EVERYTHING, Shared, profile_of
from pathway.lib.times import ET, days_between, today_in
from pathway.web.page_cache import cached_content, csrf_context, next_moment, with_csrf_token
from programs.season.match import outcome_of

from .forms import EVIDENCE_FORMS, NoteForm, StatusForm

NEXT_DEADLINES = 8
_UNSET = object()
_KEY = "milestone-key"  # a stand-in template key, reversed once and then replaced by each row's key


# --- Display values, built once per page rather than per row in the templates -----------------------


@dataclass(frozen=True)
class MilestoneURL:
    """The URL of a milestone's page for any template key: reversed once per page (a `{% url %}` per row
    cost more than the rest of the row), then each row's key put in its place."""

    head: str
    tail: str

    def of(self, key: str) -> str:
        return f"{self.head}{key}{self.tail}"

    @classmethod
    def reversed(cls, viewname: str, *args) -> MilestoneURL:
        head, _, tail = reverse(viewname, args=[*args, _KEY]).rpartition(_KEY)
        return cls(head, tail)


def applicant_milestone_url() -> MilestoneURL:
    """Links to the applicant's own milestone pages."""
    return MilestoneURL.reversed("applicant:milestone_detail")


def advisor_milestone_url(student) -> MilestoneURL:
    """Links to an advisor's read-only copies of `student`'s milestone pages."""
    return MilestoneURL.reversed("advisor:student_milestone", student.pk)


def local_date(moment: datetime | date | None, fmt: str, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """`moment` as the `date` filter shows it inside `{% timezone tz %}`: on the wall clock of `tz`
    (a datetime; a date stays as it is), in the filter's format."""
    if moment is None:
        return ""
    if tz is not None and isinstance(moment, datetime):
        moment = moment.astimezone(tz)
    return date_format(moment, fmt)


@dataclass(frozen=True)
class Row:
    """A milestone as a list on a page shows it: its link, status and deadline, formatted once."""

    milestone: Milestone
    href: str
    status_label: str
    due_iso: str = ""
    due_on: str = ""  # "j M Y" on the applicant's clock
    due_day: str = ""  # "D j M Y", where a list names the weekday


def milestone_row(milestone: Milestone, url: MilestoneURL, tz: zoneinfo.ZoneInfo | None, day_fmt: str = "") -> Row:
    due_at = milestone.due_at
    return Row(
        milestone,
        url.of(milestone.template.key),
        milestone.get_status_display(),
        due_at.isoformat() if due_at else "",
        local_date(due_at, "j M Y", tz),
        local_date(due_at, day_fmt, tz) if day_fmt else "",
    )


# --- Days left ------------------------------------------------------------------------------------


def days_left(due_at: datetime, tz: zoneinfo.ZoneInfo, now: datetime | None = None) -> int:
    """Calendar days from today to the deadline's day, both on the applicant's wall clock."""
    return days_between(now or timezone.now(), due_at, tz)


def days_left_label(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {days} days"
    if days == -1:
        return "1 day overdue"
    return f"{-days} days overdue"


@dataclass(frozen=True)
class Deadline:
    milestone: Milestone
    days: int
    overdue: bool  # the moment has passed, even when it is still "today" on the wall clock
    href: str = ""
    when: str = ""  # the due moment in words on the applicant's clock ("D j M Y, g:i A T")

    @property
    def label(self) -> str:
        if self.overdue and self.days == 0:
            return "overdue today"
        return days_left_label(self.days)


# --- Progress -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseProgress:
    phase: str
    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    phases: list[PhaseProgress]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress_of(rows) -> Progress:
    """Progress from (status, phase) pairs; done and waived both count as finished."""
    totals, done = Counter(), Counter()
    for status, phase in rows:
        totals[phase] += 1
        if status in (Milestone.Status.DONE, Milestone.Status.WAIVED):
            done[phase] += 1
    phases = [
        PhaseProgress(value, label, done[value], totals[value])
        for value, label in Phase.choices
        if totals[value]
    ]
    return Progress(sum(done.values()), sum(totals.values()), phases)


def progress_for(applicant) -> Progress:
    """The progress figures alone (one query): what the htmx refresh after an update asks for."""
    rows = (
        Milestone.objects.of_applicant(applicant)
        .filter(template__contingency=False)
        .values_list("status", "template__phase")
    )
    return progress_of(rows)


# --- Dashboard ------------------------------------------------------------------------------------


def dashboard_context(
    *,
    applicant,
    profile=_UNSET,
    now: datetime | None = None,
    url: MilestoneURL | None = None,
    reference: ReferenceData | None = None,
) -> dict:
    """Everything the dashboard shows: progress, the next deadlines, what is overdue, and the risks.
    Pass the `profile` when the caller has it (None: the applicant has none yet), the `url` of the
    milestone pages when they are not the applicant's own (an advisor's copy), and the `reference`
    snapshot (milestones/reference.py) when the caller read its stamp.

    Each row's link, status and dates are built here once (`rows`, `contingencies`, the deadlines'
    `href` and `when`), so the template does no URL reversing or time zone conversion per row."""
    if profile is _UNSET:
        profile = profile_of(applicant)
    milestones = list(Milestone.objects.of_applicant(applicant).order_by("template__order"))
    context = {"profile": profile, "milestones": milestones, "shared": EVERYTHING, **_progress_context(milestones)}
    if profile is None:
        return context
    url = url or applicant_milestone_url()
    tz = profile.tz
    overdue, upcoming = _deadlines(milestones, tz, now or timezone.now(), url)
    reference = reference or reference_data()
    risks = pathway_risks(applicant=applicant, milestones=milestones, profile=profile, reference=reference)
    red, amber = _risks_by_severity(risks)
    context.update(
        tz_name=profile.time_zone,
        milestone_url=url,
        rows=[milestone_row(m, url, tz) for m in milestones],
        reachability=judge_reachability(
            applicant=applicant, milestones=milestones, profile=profile, reference=reference
        ),
        contingencies=[milestone_row(m, url, tz, "D j M Y") for m in milestones if m.template.contingency],
        overdue=overdue,
        overdue_groups=_by_phase(overdue),
        next_deadlines=upcoming,
        red_risks=red,
        amber_risks=amber,
        titles={m.template.key: m.template.title for m in milestones},
        # Where the applicant matched, once recorded (Match Day or an accepted SOAP offer).
        match_outcome=outcome_of(applicant, profile.target_cycle),
    )
    return context


def dashboard_content(request, *, applicant, state: PageState, variant: str = "", context_of=None):
    """The dashboard's content (without the layout), from the per-applicant cache when it is fresh.

    `state` is the applicant's `page_state` (read first); `variant` names the viewer when it is not the
    applicant (the advisor's read-only copy, keyed by everything of the viewer's it shows), and
    `context_of(now)` builds that copy's context instead of the applicant's own.
    """

    def build(now: datetime):
        if context_of:
            context = context_of(now)
        else:
            reference = reference_data(state.reference_stamp)
            context = dashboard_context(applicant=applicant, now=now, reference=reference)
        context.update(csrf_context())
        html = render_to_string("applicant/dashboard.html#body", context)
        return html, next_moment(now, (m.due_at for m in context["milestones"]))

    html = cached_content(kind="dashboard", applicant_id=applicant.pk, state=state, build=build, variant=variant)
    return mark_safe(with_csrf_token(request, html))  # noqa: S308 - rendered by our own template


def _progress_context(milestones: list[Milestone]) -> dict:
    # A contingency (SOAP) is not a step everyone does, so it does not count towards progress.
    progress = progress_of((m.status, m.template.phase) for m in milestones if not m.template.contingency)
    return {
        "progress": progress,
        "done_count": progress.done,
        "total_count": progress.total,
        "percent_done": progress.percent,
    }


def _deadlines(
    milestones: list[Milestone], tz: zoneinfo.ZoneInfo, now: datetime, url: MilestoneURL
) -> tuple[list, list]:
    """The open, dated milestones by due date, split into (overdue, the next NEXT_DEADLINES upcoming):
    only those the dashboard shows, each with its link and due moment in words."""
    dated = sorted(
        (m for m in milestones if m.is_open and m.due_at and is_task(m.template)), key=lambda m: m.due_at
    )
    overdue = [m for m in dated if m.due_at < now]
    upcoming = [m for m in dated if m.due_at >= now][:NEXT_DEADLINES]

    def deadline(m: Milestone) -> Deadline:
        when = local_date(m.due_at, "D j M Y, g:i A T", tz)
        return Deadline(m, days_left(m.due_at, tz, now), m.due_at < now, url.of(m.template.key), when)

    return [deadline(m) for m in overdue], [deadline(m) for m in upcoming]


@dataclass(frozen=True)
class PhaseDeadlines:
    phase: str
    label: str
    deadlines: list


def _by_phase(deadlines: list[Deadline]) -> list[PhaseDeadlines]:
    """The deadlines (already in date order) grouped by phase, the phases in pathway order."""
    groups = [
        PhaseDeadlines(value, label, [d for d in deadlines if d.milestone.template.phase == value])
        for value, label in Phase.choices
    ]
    return [group for group in groups if group.deadlines]


def _risks_by_severity(risks) -> tuple[list, list]:
    return [r for r in risks if r.severity == RED], [r for r in risks if r.severity != RED]


# --- Milestone page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A prerequisite or a dependant of the milestone, with its state for this applicant."""

    milestone: Milestone
    hard: bool
    href: str = ""
    status_label: str = ""


@dataclass(frozen=True)
class Anchor:
    """Where a deadline comes from, in words: '3 days before <what> (<when>)'."""

    offset_phrase: str
    what: str
    when: datetime | date | None = None
    when_tz: str = ""
    projected: bool = False
    milestone: Milestone | None = None
    href: str = ""  # the anchor milestone's page
    when_text: str = ""  # `when` in words, as the page shows it (see deadline_anchor)


def offset_phrase(days: int) -> str:
    if days == 0:
        return "On the day of"
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'before' if days < 0 else 'after'}"


def deadline_anchor(
    milestone: Milestone,
    profile: ApplicantProfile,
    related: dict[str, Milestone],
    url: MilestoneURL | None = None,
    reference: ReferenceData | None = None,
) -> Anchor | None:
    """Where the deadline comes from. A cycle event's moment is told in Eastern time, as the organisers
    publish it; another milestone's deadline on the applicant's clock; the graduation date as a day."""
    template = milestone.template
    phrase = offset_phrase(template.deadline_offset_days)
    if template.deadline_kind == DeadlineKind.EVENT:
        event = (reference or reference_data()).event(profile.target_cycle_id, template.deadline_anchor)
        if event is None:
            return Anchor(phrase, template.deadline_anchor.replace("_", " "))
        what = f"{event.title} ({profile.target_cycle.name})"
        when_text = local_date(event.at, "j M Y, g:i A", ET)
        return Anchor(phrase, what, event.at, "ET", event.projected, when_text=when_text)
    if template.deadline_kind == DeadlineKind.MILESTONE:
        anchor = related.get(template.deadline_anchor)
        if anchor is None:
            return Anchor(phrase, "the deadline of a step that is not on your pathway")
        href = (url or applicant_milestone_url()).of(anchor.template.key)
        when_text = local_date(anchor.due_at, "j M Y, g:i A T", profile.tz)
        return Anchor(phrase, "the deadline of", anchor.due_at, "", anchor.due_projected, anchor, href, when_text)
    if template.deadline_kind == DeadlineKind.APPLICANT:
        when = profile.graduation_date
        return Anchor(phrase, "your graduation date", when, when_text=local_date(when, "j M Y"))
    return None


def milestone_links(
    milestone: Milestone, url: MilestoneURL | None = None, reference: ReferenceData | None = None
) -> tuple[list[Link], list[Link], dict[str, Milestone]]:
    """Prerequisites and dependants that apply to this applicant, and the related milestones by key,
    each link with its `href` (the applicant's own milestone pages unless `url` says otherwise).

    One query: the applicant's milestones for every template the links name (plus the milestone the
    deadline hangs from); the template links both ways come from the reference snapshot.
    """
    template = milestone.template
    rows = (reference or reference_data()).links_of(template.id)
    ids = {requires if owner == template.id else owner for owner, requires, _ in rows}
    anchor_keys = [template.deadline_anchor] if template.deadline_kind == DeadlineKind.MILESTONE else []
    related = {
        m.template_id: m
        for m in Milestone.objects.of_applicant(milestone.applicant_id).filter(
            Q(template_id__in=ids) | Q(template__key__in=anchor_keys)
        )
    }
    hard = TemplatePrerequisite.Kind.HARD
    url = url or applicant_milestone_url()

    def link(other: Milestone, kind: str) -> Link:
        return Link(other, kind == hard, url.of(other.template.key), other.get_status_display())

    requires = [link(related[r], kind) for owner, r, kind in rows if owner == template.id and r in related]
    needed_for = [link(related[o], kind) for o, r, kind in rows if r == template.id and o in related]
    order = lambda link: link.milestone.template.order  # noqa: E731
    return (
        sorted(requires, key=order),
        sorted(needed_for, key=order),
        {m.template.key: m for m in related.values()},
    )


def evidence_context(
    milestone: Milestone, today: date, *, reference: ReferenceData | None = None, season=_UNSET
) -> dict:
    """The evidence recorded so far and the rule in force that judges it: one query or two by kind (the
    rules come from the `reference` snapshot). `season`: the applicant's target Match year, when the
    caller has it: an OET page then reads it from there rather than again."""
    kind = milestone.template.evidence
    reference = reference or reference_data()
    if kind == EvidenceKind.EXAM:
        exam = milestone.template.exam
        # Every attempt at every Step counts towards the limits; this Step's are among them, in the same
        # order (the model's), so one query serves both.
        every = list(ExamAttempt.objects.filter(milestone__applicant_id=milestone.applicant_id))
        attempts = [a for a in every if a.milestone_id == milestone.pk]
        releases = reference.score_release_rules
        all_attempts = [rule_checks.PastAttempt(a.exam, a.test_date, a.passed) for a in every]
        expected = {
            a.pk: expected_result_date(test_date=a.test_date, exam=exam, rules=releases)
            for a in attempts
            if a.passed is None and a.result_date is None
        }
        return {
            "attempts": [(a, expected.get(a.pk)) for a in attempts],
            "standard": rule_checks.standard_in_force(
                exam=exam, day=today, standards=reference.standards_of(exam)
            ),
            "attempts_left": rule_checks.attempts_left(
                exam=exam, attempts=all_attempts, day=today, limits=reference.attempt_limits
            ),
        }
    if kind == EvidenceKind.OET:
        thresholds = reference.oet_thresholds
        if season is _UNSET:
            season = (
                ApplicantProfile.objects.filter(user_id=milestone.applicant_id)
                .values_list("target_cycle__year", flat=True)
                .first()
            )
        windows = reference.oet_windows_of(season)
        results = [
            (r, rule_checks.judge_oet_result(r, thresholds=thresholds, season=season, windows=windows))
            for r in milestone.oet_results.all()
        ]
        return {
            "oet_results": results,
            "threshold": rule_checks.in_force(thresholds, today),
            "oet_window": rule_checks.oet_window(season, windows),
        }
    if kind == EvidenceKind.DOCUMENT:
        return {"documents": list(milestone.documents.all())}
    if kind == EvidenceKind.USCE:
        entries = list(milestone.usce_entries.all())
        kinds = dict(USCEEntry.Kind.choices)
        # Only the days up to today are experience; a rotation booked for later is shown as planned.
        months = usce_months_by_kind(entries, until=today)
        return {
            "usce_entries": entries,
            "usce_months": [(kinds.get(k, k), value) for k, value in months.items() if value],
            "usce_total": round(sum(months.values()), 1),
            "usce_planned_total": usce_planned_months(entries, after=today),
        }
    return {}


def milestone_context(
    *,
    milestone: Milestone,
    forms: dict | None = None,
    read_only: bool = False,
    saved: str = "",
    shared: Shared = EVERYTHING,
    url: MilestoneURL | None = None,
) -> dict:
    """Everything the milestone page shows. `forms` replaces the blank forms (a refused, bound one);
    `shared` says what an advisor may see (the template leaves out scores and notes not shared); `url`
    gives the links to other milestones when they are not the applicant's own pages (an advisor's)."""
    profile = ApplicantProfile.objects.select_related("target_cycle").get(user_id=milestone.applicant_id)
    now = timezone.now()
    tz = profile.tz
    today = today_in(tz, now)
    url = url or applicant_milestone_url()
    reference = reference_data()
    requires, needed_for, related = milestone_links(milestone, url, reference)
    context = {
        "milestone": milestone,
        "template": milestone.template,
        "profile": profile,
        "tz_name": profile.time_zone,
        "requires": requires,
        "needed_for": needed_for,
        "anchor": deadline_anchor(milestone, profile, related, url, reference),
        "read_only": read_only,
        "saved": saved,
        "progress": progress_for(milestone.applicant_id),
        "guidance": render_guidance(
            for_audience(milestone.template.guidance, is_img=profile.is_img),
            season=profile.target_cycle.year,
            today=today,
            reference=reference,
        ),
        "source_kind": source_kind(milestone.template.source_url),
        "shared": shared,
        "comments": list(milestone.comments.all()),
        **evidence_context(milestone, today, reference=reference, season=profile.target_cycle.year),
    }
    if milestone.due_at:
        due_at = milestone.due_at
        when = local_date(due_at, "l j F Y, g:i A T", tz)
        context["deadline"] = Deadline(milestone, days_left(due_at, tz, now), due_at < now, when=when)
    if not read_only:
        evidence_form = EVIDENCE_FORMS.get(milestone.template.evidence)
        for form_class in [StatusForm, NoteForm] + ([evidence_form] if evidence_form else []):
            context[form_class.context_name] = form_class(milestone=milestone)
        context.update(forms or {})
    return context
