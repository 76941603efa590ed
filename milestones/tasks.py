"""Celery tasks: thin adapters that take ids and call the services in milestones.reminders.

The services re-check everything; the tasks only add Celery's retry, acknowledgement and failure
semantics. This is also the one place that enqueues: the reminders package plans and sweeps and returns
ids, and `plan_and_enqueue` / `requeue_and_enqueue` hand them to the broker after commit, with ids,
never with model instances or far-future ETAs. (The dependency runs one way: tasks -> reminders.)
"""

from __future__ import annotations

import functools
import itertools
import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta

from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import beat_init, task_prerun
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction

from . import reminders, services

log = logging.getLogger(__name__)

# Worth another try: the SMTP server said no for now, or could not be reached (OSError covers refused
# and reset connections and socket timeouts), a hung server hit the soft time limit (prefork pool only),
# or the database blinked (the row is then still planned, or "sending" for the sweeper).
TRANSIENT_MAIL_ERRORS = (smtplib.SMTPException, OSError, SoftTimeLimitExceeded, OperationalError, InterfaceError)
# The worker process died under the task: the row is still "sending" and the sweeper owns it.
_LEFT_TO_SWEEPER = (WorkerLostError, TimeLimitExceeded)

_delivery_options = {
    "bind": True,
    # Safe because the claim makes a second run a no-op; a worker killed mid-task leaves the message
    # unacknowledged for the broker to hand out again.
    "acks_late": True,
    "autoretry_for": TRANSIENT_MAIL_ERRORS,
    "retry_backoff": getattr(settings, "REMINDER_RETRY_BACKOFF_SECONDS", 60),
    "retry_backoff_max": getattr(settings, "REMINDER_RETRY_BACKOFF_MAX_SECONDS", 300),
    "retry_jitter": True,
    "max_retries": getattr(settings, "REMINDER_MAX_RETRIES", 6),
    # One email, however slow the server may be within the SMTP timeouts: the socket timeout, which
    # knows which phase failed, always ends a slow exchange first; a soft limit interrupting the wait
    # for the reply to the end of DATA would send the email twice. The sweeper waits longer still.
    # These limits hold under the prefork pool only: the thread pool `make run` and docker-compose use
    # ignores them (Celery's TaskPool.on_apply drops them), so there the socket timeouts end a silent
    # server and the sweeper takes back a row whose thread never returns
    # (tests/milestones/test_reminder_stuck.py).
    "soft_time_limit": reminders.send_time_limits()[0],
    "time_limit": reminders.send_time_limits()[1],
}


class ReminderTask(Task):
    """Marks the row failed once Celery gives up on it (retries exhausted or a non-transient error)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, _LEFT_TO_SWEEPER):
            return
        reminders.mark_reminder_failed(reminder_id=_first_id(args, kwargs, "reminder_id"), error=exc)


class CommentTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, _LEFT_TO_SWEEPER):
            return
        reminders.mark_comment_failed(comment_id=_first_id(args, kwargs, "comment_id"), error=exc)


class DigestTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, _LEFT_TO_SWEEPER):
            return
        reminders.mark_digest_failed(digest_id=_first_id(args, kwargs, "digest_id"), error=exc)


def _first_id(args, kwargs, name):
    return kwargs[name] if name in kwargs else args[0]


@shared_task(base=ReminderTask, **_delivery_options)
def send_reminder(self, reminder_id: int) -> str:
    """Deliver one reminder row (claims it first; a duplicate message does nothing)."""
    return reminders.deliver_reminder(reminder_id=reminder_id)


@shared_task(base=DigestTask, **_delivery_options)
def send_digest(self, digest_id: int) -> str:
    """Deliver one applicant's daily digest."""
    return reminders.deliver_digest(digest_id=digest_id)


@shared_task(base=CommentTask, **_delivery_options)
def send_comment_email(self, comment_id: int) -> str:
    """Deliver the one email about an advisor's comment (claims it first; a duplicate does nothing)."""
    return reminders.deliver_comment(comment_id=comment_id)


# Reminder ids per broker message. Building and publishing a Celery message costs about 0.3 ms of the
# producer's CPU, so a sweep of 10,000 due reminders took 3-6 s one message each; 1,000 ids per message
# make it 40 messages of 250 (about 15 ms of the producer's CPU; the rest is waiting on Redis). Each id in
# a batch is still claimed, re-checked, sent and marked on its own (below); a batch is about 2 s of a
# worker thread. Not larger: a worker runs one batch per thread (--pool=threads), so a sweep must make
# at least as many messages as there are threads for all of them to send.
BATCH_SIZE = 250


def _batch_time_limits(count: int) -> tuple[int, int]:
    """A batch's (soft, hard) limits: one email's each. Every email ends (sent or a socket timeout) well
    within one email's soft limit, so the batch's soft limit can never interrupt an email's wait for the
    reply to the end of DATA."""
    soft, hard = reminders.send_time_limits()
    return soft * count, soft * count + (hard - soft)


@shared_task(bind=True, acks_late=True)
def send_reminders(self, reminder_ids: list[int]) -> dict:
    """Deliver a batch of reminder rows, one after the other, each exactly as `send_reminder` does.

    Never lost, never twice: each row is claimed on its own, so a batch delivered again (the worker died
    and the broker handed the message out again) skips the rows already sent; a row left "sending" by a
    dead worker, and planned rows not reached, are the sweeper's as before. A row that fails for a
    reason worth another try goes to `send_reminder`, with its retries and failure marking, after the
    usual back-off; the rest of the batch follows it later as a new batch (the server may be down: no
    point trying each of them now).
    """
    outcomes = dict.fromkeys(("sent", "skipped", "cancelled", "retrying", "failed"), 0)
    for index, pk in enumerate(reminder_ids):
        try:
            outcome = reminders.deliver_reminder(reminder_id=pk)
        except TRANSIENT_MAIL_ERRORS:
            log.warning("reminder %s: sending failed, retrying it alone", pk, exc_info=True)
            countdown = _delivery_options["retry_backoff"]
            send_reminder.apply_async((pk,), countdown=countdown)
            _enqueue_batches(reminder_ids[index + 1 :], countdown=countdown)
            outcomes["retrying"] += len(reminder_ids) - index
            return outcomes
        except _LEFT_TO_SWEEPER:
            raise
        except Exception as exc:  # not worth another try: what send_reminder's on_failure does
            log.exception("reminder %s: sending failed for good", pk)
            reminders.mark_reminder_failed(reminder_id=pk, error=exc)
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _enqueue_batches(reminder_ids: Sequence[int], *, producer=None, countdown: int | None = None) -> None:
    ids = iter(reminder_ids)
    while batch := list(itertools.islice(ids, BATCH_SIZE)):
        soft, hard = _batch_time_limits(len(batch))
        send_reminders.apply_async(
            (batch,), producer=producer, countdown=countdown, soft_time_limit=soft, time_limit=hard
        )


# --- Enqueueing -------------------------------------------------------------------------------------


def enqueue(reminder_ids: Sequence[int], digest_ids: Sequence[int]) -> None:
    """Hand ids to the broker now. Call it through `enqueue_after_commit`."""
    if not reminder_ids and not digest_ids:
        return
    # One producer (one broker connection) for everything, and BATCH_SIZE reminder ids per message: a
    # sweep can enqueue thousands.
    with send_reminder.app.producer_or_acquire() as producer:
        _enqueue_batches(reminder_ids, producer=producer)
        for pk in digest_ids:
            send_digest.apply_async((pk,), producer=producer)


def enqueue_after_commit(reminder_ids: Sequence[int], digest_ids: Sequence[int]) -> None:
    """Enqueue once the current transaction commits (at once when there is none), so a worker never
    sees an uncommitted row."""
    # `enqueue` is looked up now, not at import: tests and the integration suite replace it.
    transaction.on_commit(functools.partial(enqueue, list(reminder_ids), list(digest_ids)))


def enqueue_comment_emails(comment_ids: Sequence[int]) -> None:
    """Hand comment ids to the broker now. Call it through `transaction.on_commit`."""
    if not comment_ids:
        return
    with send_comment_email.app.producer_or_acquire() as producer:
        for pk in comment_ids:
            send_comment_email.apply_async((pk,), producer=producer)


def comment_and_enqueue(*, milestone, author, body: str):
    """Record an advisor's comment and enqueue its email once the comment is committed."""
    with transaction.atomic():
        comment = services.add_comment(milestone=milestone, author=author, body=body)
        # Looked up at commit, like `enqueue`: the integration tests replace it.
        transaction.on_commit(lambda: enqueue_comment_emails([comment.pk]))
    return comment


def plan_and_enqueue(*, now: datetime | None = None) -> reminders.PlanResult:
    """Plan what has come due, then enqueue the rows that go alone and the new digests after commit."""
    result = reminders.plan_due_reminders(now=now)
    enqueue_after_commit(result.enqueued, result.digests)
    return result


def requeue_and_enqueue(*, now: datetime | None = None, older_than: timedelta | None = None) -> int:
    """Return stuck rows to "planned" and enqueue every orphaned planned row again, after commit;
    returns how many were enqueued."""
    requeued = reminders.requeue_stuck(now=now, older_than=older_than)
    enqueue_after_commit(requeued.reminder_ids, requeued.digest_ids)
    comment_ids = list(requeued.comment_ids)
    transaction.on_commit(lambda: enqueue_comment_emails(comment_ids))
    return requeued.count


@shared_task
def plan_reminders() -> int:
    """The beat tick: return stuck rows (and failed ones whose retry time has come) to the queue, then
    plan and enqueue what has come due."""
    requeued = requeue_and_enqueue()
    result = plan_and_enqueue()
    if result.planned or requeued or result.superseded:
        log.info(
            "planned %d reminders (%d enqueued, %d new digests), requeued %d, cancelled %d of moved deadlines",
            len(result.planned),
            len(result.enqueued),
            len(result.digests),
            requeued,
            result.superseded,
        )
    return len(result.planned)


# --- Signals ----------------------------------------------------------------------------------------


@beat_init.connect
def _plan_when_beat_starts(sender=None, **kwargs):
    # An interval entry first fires one interval after beat starts; sweeping at once means `make run`
    # shows its demo reminder in seconds, and a restarted beat catches up immediately.
    plan_reminders.delay()


@task_prerun.connect
def _drop_stale_connections(task=None, **kwargs):
    # What Django does at the start of each request: keep connections for CONN_MAX_AGE, drop broken
    # ones. (CELERY_DB_REUSE_MAX stops Celery from closing them all around every task.) Not for eager
    # calls, which run inside the caller's transaction, as Celery's own Django fixup does.
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
