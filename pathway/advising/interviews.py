"""Interviews so far against the advisors' targets: what the cohort shows and what its
"fewer interviews than the target" flag judges (the engine's milestones.risks.cohort_risks).

An interview counts once it has a date (scheduled or held) on an application of the student's target
Match that is not withdrawn. A student's target is the one their advisors set for their first specialty;
with several advisors, the strictest (the most interviews, then the earliest date) counts, so no advisor
misses a student below their own target.
"""

from __future__ import annotations

from django.db.models import Count, F, OuterRef, Subquery

from milestones.models import ApplicantProfile
from milestones.risks import InterviewGoal
from programs.season.models import Interview
from programs.season.models import Status as ApplicationStatus

from ..models import AdvisorAssignment, InterviewTarget


def counted_interviews():
    """The interviews that count, for every applicant (filter by applicant further)."""
    return Interview.objects.filter(
        starts_at__isnull=False,
        application__cycle_id=F("application__applicant__profile__target_cycle_id"),
    ).exclude(application__status=ApplicationStatus.WITHDRAWN)


def interview_count():
    """Per-student subquery for the cohort table (one column of its one query)."""
    mine = counted_interviews().filter(application__applicant_id=OuterRef("pk")).order_by()
    return Subquery(mine.values("application__applicant_id").annotate(n=Count("pk")).values("n")[:1])


def interview_goals(applicant_ids) -> dict:
    """applicant id -> InterviewGoal, for the students with a target, in three queries whatever their number."""
    ids = list(applicant_ids)
    specialty = {
        pk: specialties[0]
        for pk, specialties in ApplicantProfile.objects.filter(user_id__in=ids).values_list("user_id", "specialties")
        if specialties
    }
    advisors: dict[int, list[int]] = {}
    for applicant_id, advisor_id in (
        AdvisorAssignment.objects.active().filter(applicant_id__in=list(specialty)).values_list("applicant_id", "advisor_id")
    ):
        advisors.setdefault(applicant_id, []).append(advisor_id)
    targets = {
        (t.advisor_id, t.specialty): t
        for t in InterviewTarget.objects.filter(advisor_id__in={a for ids_ in advisors.values() for a in ids_})
    }
    counts = dict(
        counted_interviews()
        .filter(application__applicant_id__in=list(advisors))
        .order_by()
        .values_list("application__applicant_id")
        .annotate(n=Count("pk"))
    )
    goals = {}
    for applicant_id, advisor_ids in advisors.items():
        mine = [t for a in advisor_ids if (t := targets.get((a, specialty[applicant_id])))]
        if mine:
            strictest = max(mine, key=lambda t: (t.interviews, -t.by_date.toordinal()))
            goals[applicant_id] = InterviewGoal(counts.get(applicant_id, 0), strictest.interviews, strictest.by_date)
    return goals
