"""The cohort table: an advisor's students with their progress, phase, next deadline, overdue count,
risk flags and last activity, filtered, sorted and paged in SQL. Every per-student figure is a grouped
aggregate or a correlated subquery of one statement, so a page costs the same queries for 10 students
as for 2,000 (tests/pathway/test_advisor_cohort.py counts them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery

from milestones.models import ApplicantType, DeadlineKind, MatchCycle, Milestone, MilestoneTemplate, Phase
from milestones.risks import COHORT_FLAGS

from ..models import InterviewTarget, StudentRiskFlag, User
from .interviews import interview_count

OPEN = (Milestone.Status.NOT_STARTED, Milestone.Status.IN_PROGRESS)
CLOSED = (Milestone.Status.DONE, Milestone.Status.WAIVED)
PAGE_SIZE = 50
ANY_RISK = "any"
PHASE_LABELS = dict(Phase.choices)
# The table's narrow column: the types as advisors say them.
SHORT_TYPES = {"US_MD": "US MD", "US_DO": "US DO", "US_IMG": "US IMG", "NON_US_IMG": "Non-US IMG"}

# sort key -> (column heading, ordering); "-key" sorts the other way.
SORTS = {
    "name": ("Student", ("name", "email")),
    "progress": ("Progress", ("progress", "name")),
    "phase": ("Current phase", ("phase_order", "name")),
    "next_due": ("Next deadline", ("next_due", "name")),
    "overdue": ("Overdue", ("overdue", "name")),
    "risks": ("Risk flags", ("risk_count", "name")),
    "activity": ("Last activity", ("last_activity", "name")),
}
DEFAULT_SORT = "-risks"


class CohortFilter(forms.Form):
    """The cohort's filters and sort, from the query string. A value that is not a choice is reported
    next to its field and ignored (the table shows everyone for that filter)."""

    cycle = forms.TypedChoiceField(label="Target Match", required=False, coerce=int, empty_value=None)
    type = forms.ChoiceField(label="Applicant type", required=False)
    specialty = forms.ChoiceField(label="Specialty", required=False)
    risk = forms.ChoiceField(label="Risk", required=False)
    phase = forms.ChoiceField(label="Current phase", required=False)
    sort = forms.ChoiceField(required=False)

    def __init__(self, data, *, specialties: list[str]):
        super().__init__(data)
        everyone = [("", "All")]
        self.fields["cycle"].choices = everyone + [(c.year, c.name) for c in MatchCycle.objects.all()]
        self.fields["type"].choices = everyone + list(ApplicantType.choices)
        self.fields["specialty"].choices = everyone + [(s, s) for s in specialties]
        self.fields["risk"].choices = [("", "All students"), (ANY_RISK, "Any risk flag")] + list(
            COHORT_FLAGS.items()
        )
        self.fields["phase"].choices = everyone + list(Phase.choices) + [("finished", "Everything done")]
        self.fields["sort"].choices = [(k, k) for key in SORTS for k in (key, f"-{key}")]

    def value(self, name: str):
        """The field's valid value, else None."""
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get(name) or None

    def active(self) -> dict:
        """The filters in use (for the export link, the pagination links and the summary)."""
        return {
            name: self.value(name)
            for name in ("cycle", "type", "specialty", "risk", "phase")
            if self.value(name)
        }


def visible_students(advisor):
    return User.objects.filter(pk__in=User.objects.applicants_visible_to(advisor).values("pk"))


def next_deadline(advisor, *, now: datetime) -> datetime | None:
    """The first deadline of an open step of the advisor's students after `now`: the moment the table's
    overdue counts and next deadlines change by time alone (its cached copy ends then)."""
    open_steps = Milestone.objects.filter(
        applicant__in=visible_students(advisor), is_applicable=True, status__in=OPEN, due_at__gt=now
    )
    return open_steps.aggregate(at=Min("due_at"))["at"]


def specialties_of(advisor) -> list[str]:
    """Every specialty the advisor's students target, for the filter (one query over the distinct
    lists, not one row per student)."""
    lists = visible_students(advisor).exclude(profile=None).values_list("profile__specialties", flat=True)
    return sorted({s for specialties in lists.order_by().distinct() for s in specialties or [] if isinstance(s, str)})


def _open_steps():
    return Milestone.objects.filter(applicant=OuterRef("pk"), is_applicable=True, status__in=OPEN)


def _phase():
    """The phase of the student's first open step in pathway order (None when none is open)."""
    return Subquery(_open_steps().order_by("template__order").values("template__phase")[:1])


def _per_student(milestones, aggregate):
    """One figure of each student's own milestones, as a correlated subquery. Subqueries rather than a
    GROUP BY over the join: PostgreSQL then computes only the figures the filters and the sort need for
    every student, and the rest for the page's 50 alone (after the LIMIT)."""
    return Subquery(milestones.order_by().values("applicant").annotate(value=aggregate).values("value")[:1])


def figures(*, now: datetime) -> dict:
    """name -> the expression of each per-student figure of the table."""
    mine = Milestone.objects.filter(applicant=OuterRef("pk"), is_applicable=True)
    open_ = mine.filter(status__in=OPEN)
    # A missed deadline counts as overdue only for a task (risks.is_task): not SOAP, not graduation.
    # The templates as an uncorrelated IN (PostgreSQL hashes it once) rather than a join per student.
    tasks = MilestoneTemplate.objects.filter(contingency=False).exclude(deadline_kind=DeadlineKind.APPLICANT)
    overdue = open_.filter(due_at__lt=now, template__in=tasks.values("pk"))
    upcoming = open_.filter(due_at__gte=now, template__in=MilestoneTemplate.objects.filter(contingency=False).values("pk"))
    closed = Q(status__in=CLOSED)
    # No Coalesce around these: Django would then put each subquery in the GROUP BY that the flags'
    # count needs, and PostgreSQL would compute every one for every student. A student without such
    # milestones gets None (shown as 0).
    return {
        "total": _per_student(mine, Count("pk")),
        "done": _per_student(mine, Count("pk", filter=closed)),
        "progress": _per_student(mine, Count("pk", filter=closed) * 100 / Count("pk")),
        "overdue": _per_student(overdue, Count("pk")),
        "next_due": _per_student(upcoming, Min("due_at")),
        "last_activity": _per_student(mine, Max("updated_at")),
        "phase": _phase(),
        "phase_order": Subquery(open_.order_by("template__order").values("template__order")[:1]),
        "next_title": Subquery(upcoming.order_by("due_at", "template__order").values("template__title")[:1]),
        # A join and a count, not a subquery: a student has few flags, so grouping the join costs little,
        # where a subquery per student made PostgreSQL scan the small flags table 2,000 times.
        "risk_count": Count("risk_flags", filter=Q(risk_flags__cleared_at__isnull=True)),
        # The season's interviews (issue 13), a correlated count like the milestones' figures.
        "interview_count": interview_count(),
    }


def annotate_cohort(students, *, now: datetime):
    return students.select_related("profile__target_cycle").annotate(**figures(now=now))


def filter_cohort(students, form: CohortFilter):
    if year := form.value("cycle"):
        students = students.filter(profile__target_cycle__year=year)
    if kind := form.value("type"):
        students = students.filter(profile__applicant_type=kind)
    if specialty := form.value("specialty"):
        # The JSON list's text holds the quoted name: portable across PostgreSQL and SQLite.
        students = students.filter(profile__specialties__icontains=f'"{specialty}"')
    if risk := form.value("risk"):
        flags = StudentRiskFlag.objects.active().filter(applicant=OuterRef("pk"))
        students = students.filter(Exists(flags if risk == ANY_RISK else flags.filter(code=risk)))
    if phase := form.value("phase"):
        if phase == "finished":  # no open step left (a student not yet onboarded has no steps at all)
            any_step = Milestone.objects.filter(applicant=OuterRef("pk"), is_applicable=True)
            students = students.filter(Exists(any_step), ~Exists(_open_steps()))
        else:
            students = students.alias(phase_now=_phase()).filter(phase_now=phase)
    return students


def _ordering(sort: str | None):
    sort = sort or DEFAULT_SORT
    descending, key = sort.startswith("-"), sort.lstrip("-")
    columns = SORTS[key][1]
    first = F(columns[0]).desc(nulls_last=True) if descending else F(columns[0]).asc(nulls_last=True)
    return [first, *columns[1:], "pk"]


def cohort(advisor, form: CohortFilter, *, now: datetime):
    """The advisor's students, annotated, filtered and sorted (a lazy queryset; the CSV export)."""
    students = annotate_cohort(filter_cohort(visible_students(advisor), form), now=now)
    return students.order_by(*_ordering(form.value("sort")))


def cohort_ids(advisor, form: CohortFilter, *, now: datetime):
    """The ids of the students the filters select, in the table's order: only the figure the sort needs
    is computed for every student (a lazy queryset, for the paginator)."""
    key = (form.value("sort") or DEFAULT_SORT).lstrip("-")
    column = SORTS[key][1][0]
    students = filter_cohort(visible_students(advisor), form)
    if column not in ("name", "email"):
        students = students.annotate(**{column: figures(now=now)[column]})
    return students.order_by(*_ordering(form.value("sort"))).values_list("pk", flat=True)


def students_in_order(ids: list[int], *, now: datetime) -> list[User]:
    """One page's students with every figure, in the order of `ids` (one query)."""
    by_pk = {s.pk: s for s in annotate_cohort(User.objects.filter(pk__in=ids), now=now).order_by()}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def cohort_students(advisor, form: CohortFilter):
    """The students the filters select, without the table's figures (for the cohort picture)."""
    return filter_cohort(visible_students(advisor), form)


@dataclass
class Row:
    student: User
    flags: list[StudentRiskFlag] = field(default_factory=list)
    target: InterviewTarget | None = None

    @property
    def short_type(self) -> str:
        profile = getattr(self.student, "profile", None)
        return SHORT_TYPES.get(profile.applicant_type, "") if profile else "Not onboarded yet"

    @property
    def labelled_flags(self) -> list[tuple[StudentRiskFlag, str]]:
        return [(flag, flag_label(flag.code)) for flag in self.flags]

    @property
    def phase_label(self) -> str:
        if self.student.phase:
            return PHASE_LABELS.get(self.student.phase, self.student.phase)
        return "Everything done" if self.student.total else "Not onboarded yet"


def rows_for(advisor, students) -> list[Row]:
    """Rows for a page (or an export) of students: their flags and the interview target of their first
    specialty, in two queries whatever the number of rows. (Reading the page's students in two steps,
    `cohort_ids` then `students_in_order`, keeps PostgreSQL from computing every figure for the rows an
    OFFSET skips.)"""
    students = list(students)
    flags: dict[int, list] = {}
    for flag in (
        StudentRiskFlag.objects.active()
        .filter(applicant__in=[s.pk for s in students])
        .order_by("severity", "code")
    ):
        flags.setdefault(flag.applicant_id, []).append(flag)
    targets = {t.specialty: t for t in InterviewTarget.objects.filter(advisor=advisor)}
    rows = []
    for student in students:
        profile = getattr(student, "profile", None)
        specialty = next(iter(profile.specialties), None) if profile and profile.specialties else None
        rows.append(Row(student, flags.get(student.pk, []), targets.get(specialty)))
    return rows


def flag_label(code: str) -> str:
    return COHORT_FLAGS.get(code, code)
