"""The weekly digest end to end: a real `celery worker` on real Redis and PostgreSQL delivering to a real
SMTP server (aiosmtpd) on loopback. Each advisor's digest arrives exactly once, whether its task is
published twice or the SMTP server is down when the worker first tries."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from milestones.models import Milestone
from pathway.advising.digest import plan_weekly_digests
from pathway.advising.flags import refresh_risk_flags
from pathway.models import AdvisorAssignment, AdvisorDigest

from ..factories import PlannedProfileFactory, UserFactory
from ..milestones.test_reminder_integration import (  # noqa: F401 (fixtures)
    SMTPServer,
    broker,
    free_port,
    wait_for,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NOV_2026 = datetime(2026, 11, 21, 12, tzinfo=UTC)


def advisors_with_students(n: int) -> list:
    from django.core.management import call_command

    from milestones.models import MilestoneTemplate

    if not MilestoneTemplate.objects.exists():
        call_command("load_pathway", verbosity=0)
    advisors = []
    with time_machine.travel(NOV_2026, tick=False):
        for i in range(n):
            advisor = UserFactory(advisor=True, email=f"advisor{i}@example.com")
            student = PlannedProfileFactory(applicant_type="US_MD").user
            AdvisorAssignment.objects.create(advisor=advisor, applicant=student, accepted_at=timezone.now())
            advisors.append(advisor)
    # A deadline in the coming week for every student, so every digest has something to say.
    Milestone.objects.filter(template__key="personal_statement").update(
        due_at=timezone.now() + timezone.timedelta(days=3), status="not_started"
    )
    refresh_risk_flags()
    return advisors


def publish(app, ids, times=1):
    for _ in range(times):
        for pk in ids:
            app.send_task("pathway.tasks.send_advisor_digest", args=[pk], queue="default")


def assert_each_once(recorder, ids):
    counts = Counter(message_id for message_id, _ in recorder.received)
    assert counts == {f"<advisor-digest-{pk}@pathway.localhost>": 1 for pk in ids}


def all_sent(ids):
    return AdvisorDigest.objects.filter(pk__in=ids, status="sent").count() == len(ids)


def test_each_digest_arrives_once_though_its_task_is_published_twice(broker, workers):  # noqa: F811
    advisors_with_students(3)
    ids = plan_weekly_digests()
    assert len(ids) == 3
    port = free_port()
    with SMTPServer(port) as smtp:
        worker = workers(port)
        publish(broker[1], ids, times=2)
        wait_for(lambda: all_sent(ids) and broker[2].llen("default") == 0, "3 digests sent", worker.tail)
        wait_for(lambda: len(smtp.recorder.received) >= 3, "3 messages received", worker.tail)
        # The duplicate messages were taken off the queue; give them the time to (wrongly) send again.
        wait_for(lambda: worker.tail(200).count("succeeded in") >= 6, "all six tasks run", worker.tail)
        assert_each_once(smtp.recorder, ids)
        rcpts = sorted(rcpt for _, rcpt in smtp.recorder.received)
        assert rcpts == [f"advisor{i}@example.com" for i in range(3)]
    assert plan_weekly_digests() == []  # the next tick plans nothing twice


def test_a_digest_waits_out_an_smtp_outage_and_arrives_once(broker, workers):  # noqa: F811
    advisors_with_students(2)
    ids = plan_weekly_digests()
    port = free_port()
    worker = workers(port)  # nothing listens on the port yet: every try fails and is retried
    publish(broker[1], ids)
    wait_for(
        lambda: AdvisorDigest.objects.filter(pk__in=ids, attempts__gte=2).count() == 2,
        "two failed attempts each",
        worker.tail,
    )
    with SMTPServer(port) as smtp:
        wait_for(lambda: all_sent(ids), "2 digests sent after the outage", worker.tail)
        assert_each_once(smtp.recorder, ids)
