"""Reminders enqueued in bulk (issue 11): BATCH_SIZE ids per broker message, each id still delivered
exactly as `send_reminder` delivers it alone: claimed, re-checked, sent and marked on its own."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail

from milestones import reminders, tasks
from milestones.models import Reminder
from milestones.tasks import send_reminder, send_reminders

from . import test_reminders as base

pytestmark = pytest.mark.django_db
smtp_fails = base.smtp_fails


@pytest.fixture
def planned(monkeypatch):
    """Three applicants, each with one reminder planned and due (nothing enqueued yet)."""
    base.on_enqueue(monkeypatch, send_reminder, lambda pk: None)
    rows = []
    for n in range(3):
        user = base.make_applicant(f"applicant{n}@example.com", tz="Asia/Karachi")
        rows.append(base.make_milestone(user, base.at("2027-03-03 21:00", "America/New_York")))
    with time_machine.travel(base.at("2027-03-02 09:30", "Asia/Karachi"), tick=False):
        ids = reminders.plan_due_reminders().planned
    assert len(ids) == 3
    return sorted(ids)


@pytest.fixture
def clock():
    with time_machine.travel(base.at("2027-03-02 09:31", "Asia/Karachi"), tick=False):
        yield


def test_ids_go_to_the_broker_in_batches(monkeypatch):
    published = []
    monkeypatch.setattr(send_reminders, "apply_async", lambda args, **options: published.append((args, options)))
    monkeypatch.setattr(send_reminder, "apply_async", lambda *a, **k: pytest.fail("one message per id"))

    tasks.enqueue(list(range(1, 2 * tasks.BATCH_SIZE + 2)), [])

    assert [len(args[0]) for args, _ in published] == [tasks.BATCH_SIZE, tasks.BATCH_SIZE, 1]
    assert [pk for args, _ in published for pk in args[0]] == list(range(1, 2 * tasks.BATCH_SIZE + 2))
    soft, hard = reminders.send_time_limits()
    assert published[0][1]["soft_time_limit"] == soft * tasks.BATCH_SIZE
    assert published[2][1]["soft_time_limit"] == soft and published[2][1]["time_limit"] == hard


def test_a_batch_sends_each_reminder_once_even_when_delivered_twice(planned, clock):
    assert send_reminders(planned)["sent"] == 3
    assert send_reminders(planned) == {"sent": 0, "skipped": 3, "cancelled": 0, "retrying": 0, "failed": 0}
    assert len(mail.outbox) == 3
    assert set(Reminder.objects.filter(pk__in=planned).values_list("status", flat=True)) == {"sent"}


def test_a_transient_failure_hands_that_row_to_the_retrying_task_and_the_rest_to_a_later_batch(
    planned, clock, smtp_fails, monkeypatch
):
    alone, later = [], []
    monkeypatch.setattr(send_reminder, "apply_async", lambda args, **options: alone.append((args, options)))
    monkeypatch.setattr(send_reminders, "apply_async", lambda args, **options: later.append((args, options)))

    outcome = send_reminders(planned)

    assert outcome["retrying"] == 3 and outcome["sent"] == 0
    assert [args for args, _ in alone] == [(planned[0],)]
    assert [args for args, _ in later] == [(planned[1:],)]
    assert alone[0][1]["countdown"] == later[0][1]["countdown"] > 0
    # Nothing is lost: the failed row is back to planned for its retries, the others were never claimed.
    assert set(Reminder.objects.filter(pk__in=planned).values_list("status", flat=True)) == {"planned"}
    assert len(mail.outbox) == 0


def test_a_permanent_failure_marks_that_row_failed_and_the_batch_goes_on(planned, clock, monkeypatch):
    deliver = reminders.deliver_reminder

    def broken_first(*, reminder_id):
        if reminder_id == planned[0]:
            Reminder.objects.filter(pk=reminder_id).update(status=Reminder.Status.PLANNED)
            raise ValueError("a template bug")
        return deliver(reminder_id=reminder_id)

    monkeypatch.setattr(reminders, "deliver_reminder", broken_first)

    outcome = send_reminders(planned)

    assert (outcome["failed"], outcome["sent"]) == (1, 2)
    assert Reminder.objects.get(pk=planned[0]).status == Reminder.Status.FAILED
    assert len(mail.outbox) == 2
