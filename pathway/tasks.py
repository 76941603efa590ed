"""Celery tasks of the advisor's workspace: thin adapters that take ids and call pathway.advising.

The digest task has the reminders' delivery semantics (milestones.tasks): late acknowledgement, retries
on transient mail errors, and a failed mark once they run out; the claim makes a second run a no-op.
"""

from __future__ import annotations

import functools
import logging

from celery import Task, shared_task
from django.db import transaction

from milestones import tasks as reminder_tasks

from . import sharing
from .advising import digest, flags

log = logging.getLogger(__name__)


class AdvisorDigestTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, reminder_tasks._LEFT_TO_SWEEPER):
            return
        digest.mark_advisor_digest_failed(digest_id=kwargs.get("digest_id", args[0] if args else None), error=exc)


@shared_task(base=AdvisorDigestTask, **reminder_tasks._delivery_options)
def send_advisor_digest(self, digest_id: int) -> str:
    """Deliver one advisor's weekly digest (claims it first; a duplicate message does nothing)."""
    return digest.deliver_advisor_digest(digest_id=digest_id)


def enqueue_digests(ids) -> None:
    with send_advisor_digest.app.producer_or_acquire() as producer:
        for pk in ids:
            send_advisor_digest.apply_async((pk,), producer=producer)


@shared_task
def plan_advisor_digests() -> int:
    """The beat tick: plan this week's digests (once per advisor and week) and enqueue the planned
    ones after commit."""
    with transaction.atomic():
        ids = digest.plan_weekly_digests()
        transaction.on_commit(functools.partial(enqueue_digests, ids))
    return len(ids)


@shared_task
def refresh_risk_flags() -> int:
    """The beat tick: judge every student's cohort flags again (time alone raises some)."""
    raised = flags.refresh_risk_flags()
    if raised:
        log.info("raised %d cohort risk flags", raised)
    return raised


# --- The invitation email (issue 14): same delivery semantics as the reminders ------------------------


class InvitationEmailTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, reminder_tasks._LEFT_TO_SWEEPER):
            return
        sharing.mark_invitation_failed(
            invitation_id=kwargs.get("invitation_id", args[0] if args else None), error=exc
        )


@shared_task(base=InvitationEmailTask, **reminder_tasks._delivery_options)
def send_invitation_email(self, invitation_id: int) -> str:
    """Deliver the email to an invited advisor (claims it first; a duplicate message does nothing)."""
    return sharing.deliver_invitation(invitation_id=invitation_id)


def enqueue_invitation_emails(ids) -> None:
    """Hand invitation ids to the broker now. Call it through `transaction.on_commit`."""
    if not ids:
        return
    with send_invitation_email.app.producer_or_acquire() as producer:
        for pk in ids:
            send_invitation_email.apply_async((pk,), producer=producer)


def invite_and_enqueue(*, applicant, email: str, shares: dict | None = None):
    """Invite an advisor and enqueue the invitation email once the invitation is committed (a repeat
    invitation to the same address, already emailed, is not emailed again)."""
    with transaction.atomic():
        invitation = sharing.invite_advisor(applicant=applicant, email=email, shares=shares)
        if invitation.status == invitation.Status.PLANNED and invitation.attempts == 0:
            # Looked up at commit: the integration tests replace it.
            transaction.on_commit(lambda: enqueue_invitation_emails([invitation.pk]))
    return invitation


@shared_task
def requeue_invitation_emails() -> int:
    """The beat tick: invitation emails stuck or failed back to the queue, enqueued after commit."""
    with transaction.atomic():
        ids = sharing.requeue_invitation_emails()
        transaction.on_commit(lambda: enqueue_invitation_emails(ids))
    return len(ids)
