"""The applicant's profile: saved, and its pathway re-planned when the answers change what applies."""

from __future__ import annotations

from django.db import transaction

from ..models import ApplicantProfile, new_calendar_token
from .planning import plan_pathway


@transaction.atomic
def save_profile(*, profile: ApplicantProfile, replan: bool, by=None) -> ApplicantProfile:
    """Save `profile` (new or changed) and, when `replan`, re-plan its applicant's pathway, in one transaction.

    The caller decides `replan`: a changed type, visa, cycle, graduation date or time zone changes which
    milestones apply or when they are due; a changed specialty list or reminder setting does not.
    Saving and re-planning together means nobody ever sees a saved profile with a stale pathway behind it.
    `by` is recorded as the author of the edit in the profile's history (the applicant, or an admin).
    """
    if by is not None:
        profile._history_user = by
    profile.save()
    if replan:
        plan_pathway(applicant=profile.user)
    return profile


def regenerate_calendar_token(*, profile: ApplicantProfile) -> ApplicantProfile:
    """Give the applicant a new calendar feed address; the old one stops working at once."""
    profile.calendar_token = new_calendar_token()
    profile.save(update_fields=["calendar_token"])
    return profile
