"""The applicant's profile: saved, and its pathway re-planned when the answers change what applies."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from ..models import ApplicantProfile, new_calendar_token
from .planning import plan_pathway


@transaction.atomic
def save_profile(*, profile: ApplicantProfile, replan: bool, by=None) -> ApplicantProfile:
    """Save `profile` (new or changed) and, when `replan`, re-plan its applicant's pathway, in one transaction.

    The caller decides `replan`: a changed type, visa, cycle, graduation date or time zone changes which
    milestones apply or when they are due; a changed specialty list or reminder setting does not.
    Saving and re-planning together means nobody ever sees a saved profile with a stale pathway behind it.
    A new profile for an applicant who has one by now is not saved: the existing one is returned.
    `by` is recorded as the author of the edit in the profile's history (the applicant, or an admin).
    """
    if profile.pk is None:
        existing = _profile_created_meanwhile(profile)
        if existing is not None:
            return existing
    if by is not None:
        profile._history_user = by
    profile.save()
    if replan:
        plan_pathway(applicant=profile.user)
    return profile


def _profile_created_meanwhile(profile: ApplicantProfile) -> ApplicantProfile | None:
    """The applicant's profile if another request created it first (a double-submitted onboarding).

    The applicant's user row is locked first, so concurrent onboardings of one applicant run one after
    the other: the first creates and plans, the others find its profile here instead of colliding with
    it on the unique user (which was a 500).
    """
    list(get_user_model().objects.select_for_update().filter(pk=profile.user_id).values_list("pk"))
    return ApplicantProfile.objects.filter(user_id=profile.user_id).first()


def regenerate_calendar_token(*, profile: ApplicantProfile) -> ApplicantProfile:
    """Give the applicant a new calendar feed address; the old one stops working at once."""
    profile.calendar_token = new_calendar_token()
    profile.save(update_fields=["calendar_token"])
    return profile
