"""The applicant's own notes on a milestone."""

from __future__ import annotations

from django.db import transaction

from ..models import Milestone
from ..versions import changes_pathway, of_milestone


@transaction.atomic
@changes_pathway(of_milestone)
def save_note(*, milestone: Milestone, note: str, by) -> Milestone:
    """Notes are free text with no rule to check: a plain save, recorded in the milestone's history."""
    milestone.note = note
    milestone._history_user = by
    milestone.save(update_fields=["note", "updated_at"])
    return milestone
