"""The applicant's own notes on a milestone."""

from __future__ import annotations

from django.db import transaction

from ..models import Milestone


@transaction.atomic
def save_note(*, milestone: Milestone, note: str, by) -> Milestone:
    """Notes are free text with no rule to check: a plain save, recorded in the milestone's history."""
    milestone.note = note
    milestone._history_user = by
    milestone.save(update_fields=["note", "updated_at"])
    return milestone
