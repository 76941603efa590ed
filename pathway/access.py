"""Access-checked fetches: pages, the API and the calendar feed get their objects through these, so a
stranger's request finds nothing (404) instead of a refusal that would confirm the object exists.

One fetch per object type: the applicant (a user), their profile, a milestone, an evidence row, an API
token. Each takes the user asking and returns only what that user may see.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from milestones.models import ApplicantProfile, Milestone
from milestones.services import EVIDENCE_MODELS

from .models import AdvisorAssignment, ApiToken, User


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


def get_applicant_for(user, pk: int) -> User:
    """An applicant `user` may read: themselves, an assigned student, or any applicant for admins."""
    if user.is_authenticated and user.is_advisor:
        return _assigned_student(user, pk)
    return get_object_or_404(User.objects.applicants_visible_to(user), pk=pk)


def _assigned_student(advisor: User, pk: int) -> User:
    """`applicants_visible_to`'s advisor rule in plain SQL: it runs on every advisor page, and the
    ORM's compiling of the join cost more CPU than the database's answer (BENCHMARKS.md)."""
    users, assignments = User._meta.db_table, AdvisorAssignment._meta.db_table
    sql = (
        f"SELECT u.* FROM {users} u WHERE u.id = %s AND u.role = %s AND u.is_active AND EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {assignments} a WHERE a.applicant_id = u.id AND a.advisor_id = %s AND a.ended_at IS NULL)"
    )
    found = list(User.objects.raw(sql, [pk, User.Role.APPLICANT, advisor.pk]))
    if not found:
        raise Http404
    return found[0]


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


def get_milestone_for(user, key: str, *, applicant: User | None = None, queryset=None) -> Milestone:
    """A milestone on `applicant`'s pathway (by default the user's own) that `user` may read.

    `applicant` other than `user` must already have been fetched through `get_applicant_for`. Pass
    `queryset` (e.g. with prefetches) to shape what comes back; the access rule stays the same.
    """
    applicant = applicant or user
    if applicant != user and not User.objects.applicants_visible_to(user).filter(pk=applicant.pk).exists():
        raise Http404
    milestones = queryset if queryset is not None else Milestone.objects.all()
    return get_object_or_404(milestones.of_applicant(applicant), template__key=key)


def get_evidence_for(user, milestone: Milestone, *, kind: str, pk: int):
    """One evidence row of `kind` on `milestone`, which must be the user's own; anything else is 404."""
    if milestone.applicant_id != user.pk or kind not in EVIDENCE_MODELS:
        raise Http404("No such evidence on this milestone.")
    return get_object_or_404(EVIDENCE_MODELS[kind].objects.filter(milestone=milestone), pk=pk)


def get_token_for(user, pk: int) -> ApiToken:
    """One of `user`'s own active API tokens."""
    return get_object_or_404(ApiToken.objects.active(), pk=pk, user=user)
