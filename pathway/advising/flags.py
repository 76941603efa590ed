"""The cohort's risk flags, stored: the engine's risk service (milestones.risks.cohort_risks) judges,
this module keeps one StudentRiskFlag row per flag episode so the cohort can filter and sort by risk in
SQL and the weekly digest can tell which risks are new.

Refreshed for everyone by Celery beat (time alone raises some flags: ERAS opening, the rank order list
deadline coming close) and for one student whenever their milestones change (`refresh_after_commit`).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from celery import current_app
from django.db import transaction
from django.utils import timezone

from milestones.risks import cohort_risks
from milestones.versions import pathway_changed

from ..models import StudentRiskFlag, User
from .interviews import interview_goals

BATCH = 250
# Up to this many students changed in one transaction are judged at once, after the commit.
INLINE_LIMIT = 20
log = logging.getLogger(__name__)


def refresh_risk_flags(*, applicant_ids=None, now: datetime | None = None) -> int:
    """Judge the flags of these applicants (default: every active applicant) and record what changed:
    new flags start now, flags that went away are cleared. Returns how many flags were raised."""
    now = now or timezone.now()
    if applicant_ids is None:
        applicant_ids = User.objects.applicants().filter(profile__isnull=False).values_list("pk", flat=True)
    ids = sorted(set(applicant_ids))
    raised = 0
    for start in range(0, len(ids), BATCH):
        raised += _refresh_batch(ids[start : start + BATCH], now)
    return raised


@transaction.atomic
def _refresh_batch(ids: list[int], now: datetime) -> int:
    judged = cohort_risks(applicant_ids=ids, now=now, interview_goals=interview_goals(ids))
    active = {
        (f.applicant_id, f.code): f.pk for f in StudentRiskFlag.objects.active().filter(applicant_id__in=ids)
    }
    wanted = {(pk, risk.code): risk for pk, risks in judged.items() for risk in risks}
    gone = [flag_pk for key, flag_pk in active.items() if key not in wanted]
    StudentRiskFlag.objects.filter(pk__in=gone).update(cleared_at=now)
    new = [
        StudentRiskFlag(
            applicant_id=pk, code=code, severity=risk.severity, milestone=risk.milestone, since=now
        )
        for (pk, code), risk in wanted.items()
        if (pk, code) not in active
    ]
    # A concurrent refresh may have raised the same flag: the partial unique constraint keeps one.
    StudentRiskFlag.objects.bulk_create(new, ignore_conflicts=True)
    # The cohort's cached tables show the flags: the students whose flags changed are built afresh.
    changed = {applicant_id for applicant_id, _ in wanted.keys() - active.keys()}
    changed |= {applicant_id for applicant_id, _ in active.keys() - wanted.keys()}
    pathway_changed(*changed)
    return len(new)


def refresh_after_commit(applicant_id: int) -> None:
    """Refresh one student's flags once the current transaction commits: once per transaction, however
    many of their milestones it changed (a recompute saves dozens)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        refresh_risk_flags(applicant_ids=[applicant_id])
        return
    # One callback per transaction: registered unless this transaction's is still waiting. When it is not
    # (it ran at the last commit, or a rollback dropped it, and what that transaction did with it), the
    # ids gathered so far are done with.
    waiting = connection.__dict__.get("_risk_flag_flush")
    if waiting is None or not any(entry[1] is waiting for entry in connection.run_on_commit):
        connection._risk_flag_ids = set()
        waiting = connection._risk_flag_flush = functools.partial(_flush, connection)
        transaction.on_commit(waiting)
    connection._risk_flag_ids.add(applicant_id)


def _flush(connection) -> None:
    connection._risk_flag_flush = None
    ids, connection._risk_flag_ids = connection.__dict__.get("_risk_flag_ids", set()), set()
    if len(ids) > INLINE_LIMIT:
        # A recompute of a whole cycle (an admin moved an event): the worker judges them, not the request.
        # By name, as this layer does not import the tasks; if the broker is down, beat's next tick catches up.
        try:
            current_app.send_task("pathway.tasks.refresh_risk_flags")
        except Exception:  # noqa: BLE001 (any broker error: the periodic refresh covers it)
            log.warning("could not enqueue a risk flag refresh for %d students; beat will", len(ids))
    elif ids:
        refresh_risk_flags(applicant_ids=ids)


def milestone_saved(sender, instance, raw=False, **kwargs) -> None:
    """post_save of a Milestone (connected in PathwayConfig.ready): the student's flags follow."""
    if not raw:
        refresh_after_commit(instance.applicant_id)


def interview_saved(sender, instance, raw=False, **kwargs) -> None:
    """post_save of a season Interview: the interview target flag counts them."""
    if not raw:
        refresh_after_commit(instance.application.applicant_id)


def application_saved(sender, instance, raw=False, **kwargs) -> None:
    """post_save of a season Application (withdrawn: its interview no longer counts)."""
    if not raw:
        refresh_after_commit(instance.applicant_id)
