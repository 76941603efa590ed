"""Advisors' comments on a student's milestone. The caller has checked that the author may read the
milestone (pathway.access); this only records the comment, whose email then goes out through the
reminders' delivery (`milestones.reminders.comments`), enqueued by `milestones.tasks` after commit."""

from __future__ import annotations

from django.db import transaction

from ..models import Milestone, MilestoneComment
from ..versions import changes_pathway, of_milestone


class CommentRefused(ValueError):
    """The comment is empty or too long; the message is for its author."""


@transaction.atomic
@changes_pathway(of_milestone)  # the student's milestone page shows it: no cached copy may miss it
def add_comment(*, milestone: Milestone, author, body: str) -> MilestoneComment:
    body = (body or "").strip()
    if not body:
        raise CommentRefused("Write a comment first.")
    if len(body) > MilestoneComment.BODY_MAX_LENGTH:
        raise CommentRefused(f"A comment has at most {MilestoneComment.BODY_MAX_LENGTH} characters.")
    return MilestoneComment.objects.create(
        milestone=milestone, author=author, author_name=author.display_name, body=body
    )
