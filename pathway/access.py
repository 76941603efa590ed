"""Access-checked fetches: pages, the API and the calendar feed get their objects through these, so a
stranger's request finds nothing (404) instead of a refusal that would confirm the object exists.

One fetch per object type: the applicant (a user), their profile, a milestone, an evidence row, an API
token, an advisor's sharing and an invitation. Each takes the user asking and returns only what that
user may see; `get_student_for` also says which parts of a pathway (scores, visa details, private notes) they see.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from milestones.models import ApplicantProfile, Milestone
from milestones.services import EVIDENCE_MODELS
from milestones.versions import PAGE_STATE_COLUMNS, PageState, page_state, page_state_of, page_state_sql
from programs.models import OutdatedReport, Program
from programs.season.models import Application, Letter

from .models import AdvisorAssignment, AdvisorInvitation, ApiToken, User


def role_required(*roles: str):
    """Views for one kind of user: everyone else gets 404, as if the page did not exist."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def applicant_only(view):
    """Logged-in applicants only (their own pathway pages); everyone else gets 404."""
    return login_required(role_required(User.Role.APPLICANT)(view))


def reviewer_only(view):
    """Advisors and admins (the directory's review queue); everyone else gets 404."""
    return login_required(role_required(User.Role.ADVISOR, User.Role.ADMIN)(view))


def _assigned_student(advisor: User, pk: int) -> tuple[User, Shared, PageState | None]:
    """`applicants_visible_to`'s advisor rule, the sharing's choices and the student's page state
    (milestones.versions) in one plain SQL query: it runs on every advisor page, and the ORM's compiling
    of the join cost more CPU than the database's answer (BENCHMARKS.md)."""
    users, assignments = User._meta.db_table, AdvisorAssignment._meta.db_table
    state_columns, state_joins, state_params = page_state_sql("u.id", pk)
    sql = (
        "SELECT u.*, a.shares_scores AS shared_scores, a.shares_visa AS shared_visa, "  # noqa: S608
        f"a.shares_notes AS shared_notes, {state_columns}"
        f" FROM {users} u JOIN {assignments} a ON a.applicant_id = u.id AND a.advisor_id = %s"
        # Agreed to by the applicant (issue 14) and not ended: a pending admin assignment shows nothing yet.
        " AND a.ended_at IS NULL AND a.accepted_at IS NOT NULL"
        f"{state_joins} WHERE u.id = %s AND u.role = %s AND u.is_active LIMIT 1"
    )
    found = list(User.objects.raw(sql, [advisor.pk, *state_params, pk, User.Role.APPLICANT]))
    if not found:
        raise Http404
    student = found[0]
    shared = Shared(scores=student.shared_scores, visa=student.shared_visa, notes=student.shared_notes)
    return student, shared, page_state_of([getattr(student, column) for column in PAGE_STATE_COLUMNS])


def profile_of(user) -> ApplicantProfile | None:
    """`user`'s own applicant profile with its target cycle, or None before onboarding."""
    return ApplicantProfile.objects.select_related("target_cycle").filter(user=user).first()


def profile_for_calendar_token(token: str) -> ApplicantProfile:
    """The calendar feed's only credential is the secret in its URL: an unknown or stale one is 404."""
    return get_object_or_404(
        ApplicantProfile.objects.select_related("target_cycle"),
        calendar_token=token,
        user__is_active=True,
        user__role=User.Role.APPLICANT,
    )


def get_milestone_for(user, key: str, *, queryset=None) -> Milestone:
    """A milestone on `user`'s own pathway (an advisor's copy: get_student_milestone_for). Pass `queryset`
    (e.g. with prefetches) to shape what comes back; the access rule stays the same."""
    milestones = queryset if queryset is not None else Milestone.objects.all()
    return get_object_or_404(milestones.of_applicant(user), template__key=key)


def get_evidence_for(user, milestone: Milestone, *, kind: str, pk: int):
    """One evidence row of `kind` on `milestone`, which must be the user's own; anything else is 404."""
    if milestone.applicant_id != user.pk or kind not in EVIDENCE_MODELS:
        raise Http404("No such evidence on this milestone.")
    return get_object_or_404(EVIDENCE_MODELS[kind].objects.filter(milestone=milestone), pk=pk)


def get_token_for(user, pk: int) -> ApiToken:
    """One of `user`'s own active API tokens."""
    return get_object_or_404(ApiToken.objects.active(), pk=pk, user=user)


# --- Sharing with advisors ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """Which parts of a pathway the viewer sees besides milestones, deadlines and risks."""

    scores: bool = True
    visa: bool = True
    notes: bool = True


EVERYTHING = Shared()


def get_student_for(user, pk: int) -> tuple[User, Shared]:
    """An applicant `user` may read and what of their pathway `user` sees: an advisor's student with what
    their active sharing allows; everything of any applicant for admins, and of themselves for applicants."""
    if user.is_authenticated and user.is_advisor:
        return _assigned_student(user, pk)[:2]
    return get_object_or_404(User.objects.applicants_visible_to(user), pk=pk), EVERYTHING


def get_student_and_state_for(user, pk: int) -> tuple[User, Shared, PageState | None]:
    """get_student_for and the student's page state (milestones.versions.page_state); for an advisor,
    in the same query as the access check: the advisor's cached pages run one query fewer."""
    if user.is_authenticated and user.is_advisor:
        return _assigned_student(user, pk)
    student, shared = get_student_for(user, pk)
    return student, shared, page_state(student.pk)


def get_student_milestone_for(user, student: User, shared: Shared, key: str, *, queryset=None) -> Milestone:
    """A milestone of `student` for their advisor: a visa step is not there unless visa details are shared."""
    milestones = queryset if queryset is not None else Milestone.objects.all()
    # `student` came through get_student_for, which checked the access: no second check here.
    milestone = get_object_or_404(milestones.of_applicant(student), template__key=key)
    if milestone.template.visa_route and not shared.visa:
        raise Http404
    return milestone


def get_sharing_for(user, pk: int) -> AdvisorAssignment:
    """One of the applicant `user`'s own current (active or waiting) advisor sharings."""
    return get_object_or_404(
        AdvisorAssignment.objects.current().select_related("advisor"), pk=pk, applicant=user
    )


def get_own_invitation_for(user, pk: int) -> AdvisorInvitation:
    """One of the applicant `user`'s own open invitations."""
    return get_object_or_404(AdvisorInvitation.objects.open(), pk=pk, applicant=user)


def get_invitation_to(user, pk: int) -> AdvisorInvitation:
    """An open invitation addressed to the advisor `user`'s own email address."""
    if not user.is_advisor:
        raise Http404
    return get_object_or_404(
        AdvisorInvitation.objects.open().select_related("applicant"),
        pk=pk,
        email__iexact=user.email,
        applicant__is_active=True,
    )


def get_application_for(user, pk: int):
    """One of `user`'s own season applications (the applicant's pages change only their own)."""
    return get_object_or_404(Application.objects.with_related().filter(applicant=user), pk=pk)


def get_letter_for(user, pk: int):
    """One of `user`'s own letters of recommendation."""
    return get_object_or_404(Letter.objects.select_related("cycle", "specialty").filter(applicant=user), pk=pk)


def get_program_for(user, pk: int, *, queryset=None) -> Program:
    """A program of the directory `user` may see: listed ones, the ones they added themselves, and every
    program for advisors and admins. Pass `queryset` (with prefetches) to shape what comes back."""
    programs = queryset if queryset is not None else Program.objects.all()
    return get_object_or_404(programs.visible_to(user), pk=pk)


def get_program_by_code_for(user, code: str, *, queryset=None) -> Program:
    """The same, by NRMP program code (as the JSON API names programs)."""
    programs = queryset if queryset is not None else Program.objects.all()
    return get_object_or_404(programs.visible_to(user), nrmp_code=code.upper())


def get_open_report_for(user, pk: int) -> OutdatedReport:
    """A report still waiting in the review queue, for an advisor or admin to accept or dismiss."""
    if not user.is_authenticated or user.role not in (User.Role.ADVISOR, User.Role.ADMIN):
        raise Http404
    return get_object_or_404(OutdatedReport.objects.open().visible_to(user).select_related("program"), pk=pk)
