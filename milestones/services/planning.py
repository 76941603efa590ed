"""Planning: which milestones an applicant has and when each is due."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..deadlines import ApplicantDates, DeadlineResolver, EventDate, Rule
from ..models import ApplicantProfile, CycleEvent, Milestone, MilestoneTemplate
from ..versions import changes_pathway


def template_applies(template: MilestoneTemplate, profile: ApplicantProfile) -> bool:
    if not template.is_active or profile.applicant_type not in (template.applies_to or []):
        return False
    if template.visa_route and not (profile.needs_visa and profile.visa_route == template.visa_route):
        return False
    return not template.optional or template.key in (profile.opted_in or [])


def cycle_events(cycle_ids: Iterable[int]) -> dict[int, dict[str, EventDate]]:
    events: dict[int, dict[str, EventDate]] = defaultdict(dict)
    for cycle_id, key, at, status in CycleEvent.objects.filter(cycle_id__in=list(cycle_ids)).values_list(
        "cycle_id", "key", "at", "status"
    ):
        events[cycle_id][key] = EventDate(at, status == "projected")
    return events


def applicant_dates(profile: ApplicantProfile) -> ApplicantDates:
    return ApplicantDates(graduation_date=profile.graduation_date, tz=profile.tz)


@transaction.atomic
@changes_pathway(lambda kw: kw["applicant"])
def plan_pathway(*, applicant) -> None:
    """Create the applicant's milestones from the templates that apply and (re)compute every deadline.

    Idempotent. On a re-plan (type, visa or cycle change) a milestone that stops applying is hidden
    (is_applicable=False) with its evidence kept, and comes back if it applies again.
    """
    # Locking the profile serialises two concurrent plans of the same applicant (double submit).
    profile = ApplicantProfile.objects.select_for_update().get(user=applicant)
    templates = list(MilestoneTemplate.objects.all())
    existing = {m.template_id: m for m in Milestone.objects.filter(applicant=applicant)}
    resolver = DeadlineResolver(
        rules={t.key: Rule.of(t) for t in templates},
        events=cycle_events([profile.target_cycle_id])[profile.target_cycle_id],
        applicant=applicant_dates(profile),
    )
    new, changed = [], []
    for template in templates:
        deadline = resolver.resolve(template.key)
        values = {
            "is_applicable": template_applies(template, profile),
            "due_at": deadline.at if deadline else None,
            "due_projected": deadline.projected if deadline else False,
        }
        milestone = existing.get(template.id)
        if milestone is None:
            if values["is_applicable"]:
                new.append(Milestone(applicant=applicant, template=template, **values))
        elif any(getattr(milestone, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(milestone, name, value)
            changed.append(milestone)
    if new:
        bulk_create_with_history(new, Milestone, default_user=applicant)
    if changed:
        bulk_update_with_history(
            changed, Milestone, ["is_applicable", "due_at", "due_projected"], default_user=applicant
        )
