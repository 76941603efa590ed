"""What the directory's templates show: search results with a verdict badge per row, and a program's
requirements with their provenance, the viewer's verdict and each claim's history.

Queries stay constant whatever the number of rows: the page's programs come with their claims
(`.with_claims()`), the verdicts from `verdicts_for` (the applicant's facts read once), the histories
in one query per program page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.utils import timezone

from milestones.models import ApplicantProfile
from programs.eligibility import Outcome, RequirementResult, Verdict, check_eligibility, verdicts_for
from programs.filters import ProgramFilter
from programs.models import DirectorySettings, Program, Requirement, RequirementClaim

PAGE_SIZE = 25
VISAS = (Requirement.VISA_J1, Requirement.VISA_H1B)
BADGES = {
    Outcome.PASS: ("Eligible", "badge-done"),
    Outcome.FAIL: ("Not eligible", "badge-red"),
    Outcome.UNKNOWN: ("Unknown", "badge-amber"),
}


def base_queryset(user):
    return Program.objects.visible_to(user).with_related().with_claims().order_by("name", "pk")


def search(request, profile: ApplicantProfile | None) -> dict:
    """The filtered, paginated page of programs (page 1 when the page number is not a page)."""
    filterset = ProgramFilter(request.GET or None, queryset=base_queryset(request.user), request=request)
    filterset.form.fields["state"].help_text = "Hold Ctrl (or ⌘) to choose several."
    programs = filterset.qs  # a filter it cannot read is left out (and named above the results)
    page = Paginator(programs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    # "Eligible only" has read the applicant's facts already (filterset.facts): the badges reuse them.
    verdicts = verdicts_for(profile=profile, programs=rows, facts=filterset.facts) if profile else {}
    return {
        "filter": filterset,
        "form": filterset.form,
        "page": page,
        "rows": [result_row(program, verdicts.get(program.pk)) for program in rows],
        "querystring": _querystring_without_page(request),
        "profile": profile,
    }


def _querystring_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@dataclass
class ResultRow:
    program: Program
    verdict: Verdict | None
    visas: dict

    @property
    def badge(self):
        return BADGES[self.verdict.outcome] if self.verdict else None


def result_row(program: Program, verdict: Verdict | None) -> ResultRow:
    claims = {claim.requirement: claim for claim in program.claims.all()}
    return ResultRow(program, verdict, {r: _value(claims.get(r)) for r in VISAS})


def _value(claim: RequirementClaim | None) -> str:
    return claim.display_value if claim else "Unknown"


@dataclass
class RequirementRow:
    requirement: str
    label: str
    claim: RequirementClaim | None
    value: str
    stale: bool
    result: RequirementResult | None
    history: list = field(default_factory=list)


def program_detail(*, program: Program, viewer, profile: ApplicantProfile | None) -> dict:
    settings_row = DirectorySettings.current()
    today = timezone.localdate()
    claims = {claim.requirement: claim for claim in program.claims.all()}
    verdict = check_eligibility(profile=profile, program=program) if profile else None
    results = {r.requirement: r for r in verdict.results} if verdict else {}
    histories = _histories(program)
    rows = [
        RequirementRow(
            requirement=requirement,
            label=label,
            claim=claims.get(requirement),
            value=_value(claims.get(requirement)),
            stale=bool(claims.get(requirement)) and claims[requirement].is_stale(today, settings_row),
            result=results.get(requirement),
            history=[_history_entry(record, viewer) for record in histories.get(requirement, [])],
        )
        for requirement, label in Requirement.choices
    ]
    return {
        "program": program,
        "rows": rows,
        "verdict": verdict,
        "badge": BADGES[verdict.outcome] if verdict else None,
        "stale_after_days": settings_row.stale_after_days,
    }


def _histories(program: Program) -> dict[str, list]:
    """Every past version of the program's claims, newest first, in one query."""
    records = (
        RequirementClaim.history.filter(program_id=program.pk)
        .select_related("history_user")
        .order_by("requirement", "-history_date", "-history_id")
    )
    grouped: dict[str, list] = {}
    for record in records:
        grouped.setdefault(record.requirement, []).append(record)
    return grouped


def _history_entry(record, viewer) -> dict:
    return {
        "when": record.history_date,
        "change": {"+": "Recorded", "~": "Changed", "-": "Removed"}.get(record.history_type, "Changed"),
        "value": record.instance.display_value,
        "source_url": record.source_url,
        "source_kind": record.get_source_kind_display(),
        "observed_on": record.observed_on,
        "verified": record.verified_by_id is not None,
        "by": who(record.history_user, viewer),
    }


def who(user, viewer) -> str:
    """Who entered something, as the viewer may know it: applicants stay anonymous to everyone but
    themselves and admins (an advisor has no business knowing which applicant reads which program)."""
    if user is None:
        return "an import"
    if viewer is not None and user.pk == viewer.pk:
        return "you"
    if user.is_applicant and not getattr(viewer, "is_admin", False):
        return "an applicant"
    return f"{user.display_name} ({user.get_role_display().lower()})"


def page_numbers(page: Page) -> list[int | None]:
    """The page links to show: first, last, and two around the current one; None for a gap."""
    last, current = page.paginator.num_pages, page.number
    wanted = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    numbers: list[int | None] = []
    for number in wanted:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers
