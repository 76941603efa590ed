"""Services on a person's account as a whole."""

from __future__ import annotations

from django.db import transaction

from milestones.models import ApplicantProfile, Milestone


@transaction.atomic
def delete_account(*, user) -> None:
    """Delete the user and everything of theirs, including the edit history of their pathway.

    The database cascades remove the profile, milestones, evidence, reminders, digests, API tokens,
    advisor assignments and email addresses. simple_history keeps historical rows on purpose (and
    writes one more per deleted row), so those of the applicant's milestones and profile go explicitly,
    after the delete that created the last ones.
    """
    user_id = user.pk
    user.delete()
    Milestone.history.filter(applicant_id=user_id).delete()
    ApplicantProfile.history.filter(user_id=user_id).delete()
