"""An advisor's choices: interview targets per specialty, and whether the weekly digest comes."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from ..models import AdvisorSettings, InterviewTarget, User


@transaction.atomic
def set_interview_target(*, advisor: User, specialty: str, interviews: int, by_date: date) -> InterviewTarget:
    """Set (or change) the target for one specialty."""
    target, _ = InterviewTarget.objects.update_or_create(
        advisor=advisor, specialty=specialty.strip(), defaults={"interviews": interviews, "by_date": by_date}
    )
    return target


def remove_interview_target(*, advisor: User, pk: int) -> bool:
    """Remove one of the advisor's own targets; False when there is no such target of theirs."""
    return bool(InterviewTarget.objects.filter(advisor=advisor, pk=pk).delete()[0])


def set_weekly_digest(*, advisor: User, on: bool) -> None:
    AdvisorSettings.objects.update_or_create(advisor=advisor, defaults={"weekly_digest": on})


def wants_weekly_digest(advisor: User) -> bool:
    settings = AdvisorSettings.objects.filter(advisor=advisor).first()
    return settings is None or settings.weekly_digest
