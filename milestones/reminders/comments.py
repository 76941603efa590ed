"""Delivering the one email about an advisor's comment: the same claim/check/send/mark steps as a
reminder (`delivery.py`), so it is never lost (retries, then the sweeper) and sent twice only in the
one window no SMTP client can close (see the package docstring); a repeat carries the same Message-ID.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from pathway.lib.emails import send_templated_email
from pathway.lib.urls import absolute_url

from ..models import MilestoneComment
from . import smtp
from .delivery import cancel, claim, mark_failed, mark_sent, release

# A comment is news for a while, not forever: the sweeper stops retrying a failed email after this.
COMMENT_EMAIL_WINDOW = timedelta(days=7)


def comment_why_not(comment: MilestoneComment) -> str:
    """Why this comment's email must not go out now, or ""."""
    student = comment.milestone.applicant
    if not student.is_active:
        return "account is inactive"
    if not comment.milestone.is_applicable:
        return "milestone is no longer on the pathway"
    return ""


def deliver_comment(*, comment_id: int, mailer=None) -> str:
    """Claim, re-check, send and mark the email about one comment; returns what happened."""
    now = timezone.now()
    if not claim(MilestoneComment, comment_id, now):
        return "skipped"
    comment = MilestoneComment.objects.select_related("milestone__template", "milestone__applicant").get(
        pk=comment_id
    )
    if reason := comment_why_not(comment):
        cancel(MilestoneComment, comment_id, reason)
        return "cancelled"
    try:
        _send(comment, mailer)
    except BaseException as exc:
        release(MilestoneComment, comment_id, exc)
        raise
    mark_sent(MilestoneComment, comment_id)
    return "sent"


def comment_context(comment: MilestoneComment) -> dict:
    return {
        "user": comment.milestone.applicant,
        "author_name": comment.author_name,
        "title": comment.milestone.template.title,
        "body": comment.body,
        "url": absolute_url("applicant:milestone_detail", comment.milestone.template.key) + f"#comment-{comment.pk}",
        "site_url": settings.SITE_URL,
    }


def _send(comment: MilestoneComment, mailer) -> None:
    with smtp.connection(mailer) as connection:
        send_templated_email(
            "milestone_comment",
            to=[comment.milestone.applicant.email],
            context=comment_context(comment),
            headers={"Message-ID": comment.message_id, "Auto-Submitted": "auto-generated"},
            mailer=connection,
        )


def mark_comment_failed(*, comment_id: int, error: BaseException) -> None:
    """The send task's retries ran out: failed, with the sweeper's next try while the comment is news."""
    mark_failed(MilestoneComment, comment_id, error, give_up_at=lambda row: row.created_at + COMMENT_EMAIL_WINDOW)
