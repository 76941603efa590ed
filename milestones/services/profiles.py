"""The applicant's profile: saved, and its pathway re-planned when the answers change what applies."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import ApplicantProfile, MilestoneTemplate, new_calendar_token
from ..versions import changes_pathway, pathway_changed
from .planning import plan_pathway, template_applies


@transaction.atomic
@changes_pathway(lambda kw: kw["profile"].user_id)
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
    pathway_changed(profile.user_id)
    return profile


def optional_templates_for(profile: ApplicantProfile) -> list[MilestoneTemplate]:
    """The optional steps this applicant could add (their type and visa route), in pathway order."""
    return [
        template
        for template in MilestoneTemplate.objects.filter(optional=True, is_active=True).order_by("order")
        if template_applies(template, _opted_into(profile, template.key))
    ]


def _opted_into(profile: ApplicantProfile, key: str) -> ApplicantProfile:
    """A copy of the profile as if it had opted into `key` (to ask whether the step would apply)."""
    return ApplicantProfile(
        applicant_type=profile.applicant_type,
        needs_visa=profile.needs_visa,
        visa_route=profile.visa_route,
        opted_in=[key],
    )


@transaction.atomic
def set_optional_step(*, profile: ApplicantProfile, key: str, add: bool, by) -> ApplicantProfile:
    """Add or remove an optional step (the couples match, a fellowship...) and re-plan.

    Only an optional step that can apply to the applicant is accepted; a removed step keeps its
    evidence (hidden, as on any re-plan) and comes back with it when added again.
    """
    if key not in {template.key for template in optional_templates_for(profile)}:
        raise ValidationError({"key": "That is not an optional step you can add or remove."})
    profile = ApplicantProfile.objects.select_for_update().get(pk=profile.pk)
    chosen = [k for k in (profile.opted_in or []) if k != key]
    profile.opted_in = [*chosen, key] if add else chosen
    return save_profile(profile=profile, replan=True, by=by)
