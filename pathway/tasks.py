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
