"""A cohort built fast for the advisor's tests: users, profiles, milestones and assignments in a few bulk
inserts (planning 500 pathways through the service would take minutes), with varied states."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

TYPES = ("US_MD", "US_DO", "US_IMG", "NON_US_IMG")
SPECIALTIES = ("Internal Medicine", "Pediatrics", "Family Medicine", "General Surgery")


def seed_cohort(advisor, count: int, *, start: int = 0, year: int = 2027, flagged_every: int = 3):
    """`count` students sharing their pathway with `advisor`; every `flagged_every`-th has a stored risk
    flag, and their milestones are a mix of done, open, overdue and upcoming."""
    from milestones.models import ApplicantProfile, MatchCycle, Milestone, MilestoneTemplate
    from pathway.models import AdvisorAssignment, StudentRiskFlag, User

    now = timezone.now()
    cycle = MatchCycle.objects.get(year=year)
    users = User.objects.bulk_create(
        [
            User(email=f"student{start + i:05d}@cohort.test", name=f"Student {start + i:05d}", password="!")
            for i in range(count)
        ]
    )
    ApplicantProfile.objects.bulk_create(
        [
            ApplicantProfile(
                user=user,
                applicant_type=TYPES[i % 4],
                graduation_date=date(2026, 5, 31),
                target_cycle=cycle,
                specialties=[SPECIALTIES[i % 4]],
                needs_visa=TYPES[i % 4] == "NON_US_IMG",
                visa_route="J1" if TYPES[i % 4] == "NON_US_IMG" else "",
            )
            for i, user in enumerate(users)
        ]
    )
    templates = list(MilestoneTemplate.objects.filter(is_active=True, optional=False).order_by("order"))
    rows = []
    for i, user in enumerate(users):
        kind = TYPES[i % 4]
        mine = [t for t in templates if kind in t.applies_to and (not t.visa_route or kind == "NON_US_IMG" and t.visa_route == "J1")]
        done_upto = (i * 7) % len(mine)
        for n, template in enumerate(mine):
            status = "done" if n < done_upto else ("in_progress" if n == done_upto else "not_started")
            rows.append(
                Milestone(
                    applicant=user,
                    template=template,
                    status=status,
                    due_at=now + timedelta(days=(n - done_upto) * 9 - (i % 3) * 5),
                )
            )
    Milestone.objects.bulk_create(rows, batch_size=5000)
    AdvisorAssignment.objects.bulk_create(
        [AdvisorAssignment(advisor=advisor, applicant=user, accepted_at=now) for user in users]
    )
    StudentRiskFlag.objects.bulk_create(
        [
            StudentRiskFlag(applicant=user, code="rol_not_certified", severity="red", milestone="rank_order_list")
            for i, user in enumerate(users)
            if flagged_every and i % flagged_every == 0
        ]
    )
    return users
