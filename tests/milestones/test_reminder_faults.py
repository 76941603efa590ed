"""Reminder faults on real services (issue #10): a real `celery worker` on real Redis and PostgreSQL,
delivering to a real SMTP server (aiosmtpd) on loopback; the harness is test_reminder_integration.py's.

Every test counts what the server received and prints one line: emails received, reminders expected,
losses (expected and never received), repeats by Message-ID (what mail clients fold into one), repeats
under a new Message-ID (what they cannot fold) and unexpected emails. A reminder is identified by what
it says: its recipient and the deadline it names.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.utils import timezone

from milestones import reminders, tasks
from milestones.models import ApplicantProfile, MatchCycle, Milestone, MilestoneTemplate, Reminder
from milestones.services import save_profile
from pathway.models import User

from . import test_reminder_integration as harness

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The harness's fixtures, used here under the same names.
broker = harness.broker
worker_env = harness.worker_env
workers = harness.workers

SMTPServer, free_port, wait_for, statuses = (
    harness.SMTPServer,
    harness.free_port,
    harness.wait_for,
    harness.statuses,
)
UTC = ZoneInfo("UTC")


@dataclass
class Tally:
    received: int
    expected: int
    lost: list
    same_id_repeats: int
    new_id_repeats: list
    unexpected: list

    def line(self, name: str) -> str:
        return (
            f"[reminder fault: {name}] emails={self.received} expected={self.expected} "
            f"lost={len(self.lost)} repeated(same Message-ID)={self.same_id_repeats} "
            f"repeated(new Message-ID)={len(self.new_id_repeats)} unexpected={len(self.unexpected)}"
        )


def what_it_says(message) -> tuple[str, str]:
    """(recipient, deadline line) of a reminder email: which deadline it reminds whom of."""
    body = message.get_body(("plain",)).get_content()
    deadline = next(line for line in body.splitlines() if line.startswith("Deadline: "))
    return message["To"], deadline.removeprefix("Deadline: ").strip()


def tally(recorder, expected: list[tuple[str, str]]) -> Tally:
    by_id = Counter(mid for mid, _ in recorder.received)
    first_copies = {}
    for message in recorder.messages:
        first_copies.setdefault(message["Message-ID"], what_it_says(message))
    by_content = Counter(first_copies.values())
    wanted = Counter(expected)
    return Tally(
        received=len(recorder.received),
        expected=len(expected),
        lost=sorted((wanted - by_content).elements()),
        same_id_repeats=sum(n - 1 for n in by_id.values()),
        new_id_repeats=sorted(key for key, n in by_content.items() if key in wanted and n > wanted[key]),
        unexpected=sorted(key for key in by_content if key not in wanted),
    )


def report(capsys, name: str, counts: Tally) -> None:
    with capsys.disabled():
        print(f"\n{counts.line(name)}")


def applicants(n: int, *, lead_days: list[int], due_in: timedelta) -> list[Milestone]:
    """n applicants (time zone UTC) with one open milestone each, due `due_in` from now; nothing planned."""
    cycle, _ = MatchCycle.objects.get_or_create(year=2027, defaults={"name": "2027 Match"})
    template = MilestoneTemplate.objects.create(
        key="rol", title="Certify your rank order list", phase="match", guidance="Certify it.",
        reminder_lead_days=lead_days,
    )  # fmt: skip
    users = User.objects.bulk_create(
        User(email=f"applicant{i}@example.com", password="!", name=f"Applicant {i}") for i in range(n)
    )
    ApplicantProfile.objects.bulk_create(
        ApplicantProfile(
            user=u, applicant_type="NON_US_IMG", graduation_date="2025-06-30", target_cycle=cycle,
            time_zone="UTC", calendar_token=f"token-{u.pk}",
        )
        for u in users
    )  # fmt: skip
    due = timezone.now() + due_in
    Milestone.objects.bulk_create(Milestone(applicant=u, template=template, due_at=due) for u in users)
    return list(Milestone.objects.select_related("applicant").order_by("pk"))


def says(milestones: list[Milestone]) -> list[tuple[str, str]]:
    """What one reminder for each milestone's current deadline says (recipient, deadline line)."""
    return [(m.applicant.email, reminders.format_deadline(m.due_at, UTC)) for m in milestones]


def fresh(milestones: list[Milestone]) -> list[Milestone]:
    return list(Milestone.objects.filter(pk__in=[m.pk for m in milestones]).select_related("applicant"))


def beat(app, monkeypatch) -> None:
    """One beat tick, here: the sweeper, then the planner, publishing to the test's Redis after commit."""
    monkeypatch.setattr(tasks, "enqueue", lambda ids, digests: harness.publish(app, ids))
    tasks.requeue_and_enqueue()
    tasks.plan_and_enqueue()


def settled(client) -> bool:
    """Nothing left to do: the queue is empty and no row is planned or being sent."""
    counts = statuses()
    return (
        harness.queue_drained(client)
        and not counts[Reminder.Status.PLANNED]
        and not counts[Reminder.Status.SENDING]
    )


# --- Not repeated where that can be avoided ---------------------------------------------------------


def test_a_worker_killed_inside_the_acceptance_window_repeats_only_what_the_server_had(
    broker, workers, monkeypatch, capsys
):
    _, app, client = broker
    with SMTPServer(free_port()) as smtp:
        ids = harness.due_reminders(40, app, monkeypatch)
        expected = says(fresh(list(Milestone.objects.all())))
        smtp.recorder.hold_replies_after(10)
        worker = workers(smtp.port)

        # Both pool processes have sent the end of DATA; the server has the messages and has not answered.
        wait_for(
            lambda: len(smtp.recorder.in_window) >= 2,
            "two messages inside the acceptance window",
            worker.tail,
        )
        worker.kill()
        in_window = set(smtp.recorder.in_window)
        smtp.recorder.resume()

        tasks.requeue_and_enqueue(older_than=timedelta(0))  # the sweeper, told the worker is dead
        worker = workers(smtp.port)
        wait_for(lambda: statuses()[Reminder.Status.SENT] == 40, "40 sent rows", worker.tail)
        wait_for(lambda: harness.queue_drained(client), "the queue to drain", worker.tail)
        time.sleep(1)

    counts = tally(smtp.recorder, expected)
    report(capsys, "worker killed inside the acceptance window", counts)
    assert counts.lost == [] and counts.unexpected == [] and counts.new_id_repeats == []
    # The window no client can close: what the server had when the worker died comes again, under the
    # same Message-ID (mail clients show it once); nothing else does.
    repeated = {mid for mid, n in Counter(mid for mid, _ in smtp.recorder.received).items() if n > 1}
    assert repeated <= in_window and counts.same_id_repeats <= len(in_window) <= 2
    assert len(ids) == 40


def test_a_slow_reply_to_the_end_of_data_is_awaited_not_answered_with_a_second_copy(
    broker, workers, worker_env, monkeypatch, capsys
):
    _, app, client = broker
    # Commands time out after 2 s; the reply to the end of DATA (the server storing the message) may
    # take longer. Every 4th message is answered 3.5 s late, after the command timeout.
    worker_env.update({"SMTP_TIMEOUT": "2", "SMTP_DATA_TIMEOUT": "20"})
    with SMTPServer(free_port()) as smtp:
        harness.due_reminders(20, app, monkeypatch)
        expected = says(fresh(list(Milestone.objects.all())))
        smtp.recorder.slow_replies(every=4, seconds=3.5)
        worker = workers(smtp.port)

        wait_for(lambda: settled(client), "every reminder handled", worker.tail, timeout=90)
        time.sleep(1)

    counts = tally(smtp.recorder, expected)
    report(capsys, "slow reply to the end of DATA", counts)
    assert (counts.lost, counts.same_id_repeats, counts.new_id_repeats, counts.unexpected) == ([], 0, [], [])
    assert counts.received == 20
    assert statuses() == Counter({Reminder.Status.SENT: 20})


# --- Never lost -------------------------------------------------------------------------------------


def test_an_outage_longer_than_the_retry_budget_loses_nothing(
    broker, workers, worker_env, monkeypatch, capsys
):
    _, app, client = broker
    # The old budget (6 retries, about 20 minutes) shrunk to 2 quick retries; the sweeper's own retries
    # of failed rows start after 1 s and grow to 2 s (production: minutes to hours).
    worker_env.update(
        {
            "REMINDER_MAX_RETRIES": "2",
            "REMINDER_RETRY_BACKOFF_SECONDS": "1",
            "REMINDER_RETRY_BACKOFF_MAX_SECONDS": "1",
            "REMINDER_FAILED_RETRY_SECONDS": "1",
            "REMINDER_FAILED_RETRY_MAX_SECONDS": "2",
        }
    )
    port = free_port()  # nothing listens here yet: connections are refused
    harness.due_reminders(10, app, monkeypatch)
    expected = says(fresh(list(Milestone.objects.all())))
    worker = workers(port)
    wait_for(lambda: statuses()[Reminder.Status.FAILED] == 10, "10 rows failed by the outage", worker.tail)
    assert Reminder.objects.filter(last_error__icontains="refused").count() == 10

    with SMTPServer(port) as smtp:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and statuses()[Reminder.Status.SENT] < 10:
            beat(app, monkeypatch)  # every half second here; every five minutes in production
            time.sleep(0.5)
        wait_for(lambda: settled(client), "every reminder handled", worker.tail, timeout=10)
        time.sleep(1)

    counts = tally(smtp.recorder, expected)
    report(capsys, "SMTP outage longer than the retry budget", counts)
    assert (counts.lost, counts.same_id_repeats, counts.new_id_repeats, counts.unexpected) == ([], 0, [], [])
    assert statuses() == Counter({Reminder.Status.SENT: 10})


def test_a_deadline_moved_after_its_reminder_was_sent_is_reminded_of_again(
    broker, workers, monkeypatch, capsys
):
    _, app, client = broker
    with SMTPServer(free_port()) as smtp:
        milestones = applicants(10, lead_days=[7], due_in=timedelta(days=3))
        expected = says(milestones)
        worker = workers(smtp.port)
        beat(app, monkeypatch)
        wait_for(lambda: statuses()[Reminder.Status.SENT] == 10, "10 sent rows", worker.tail)

        # The deadline moves two days later: still within seven days, so the 7-day reminder of the new
        # date is due at once.
        Milestone.objects.update(due_at=F("due_at") + timedelta(days=2))
        expected += says(fresh(milestones))
        beat(app, monkeypatch)
        wait_for(lambda: settled(client), "every reminder handled", worker.tail, timeout=30)
        time.sleep(1)

    counts = tally(smtp.recorder, expected)
    report(capsys, "deadline moved after sending", counts)
    assert (counts.lost, counts.same_id_repeats, counts.new_id_repeats, counts.unexpected) == ([], 0, [], [])


def test_a_deadline_moved_after_planning_is_reminded_of_once_with_its_new_date(
    broker, workers, monkeypatch, capsys
):
    _, app, client = broker
    with SMTPServer(free_port()) as smtp:
        # Due in 12 hours: the 1-day reminders are planned and on the broker; no worker is running yet.
        milestones = applicants(10, lead_days=[7, 1], due_in=timedelta(hours=12))
        beat(app, monkeypatch)
        assert statuses() == Counter({Reminder.Status.PLANNED: 10})

        # Then the deadline moves to 3 days away: the 7-day reminder of the new date is the one due.
        Milestone.objects.update(due_at=F("due_at") + timedelta(days=2, hours=12))
        expected = says(fresh(milestones))
        worker = workers(smtp.port)
        wait_for(lambda: harness.queue_drained(client), "the stale messages handled", worker.tail)
        wait_for(lambda: not statuses()[Reminder.Status.SENDING], "no row mid-send", worker.tail)
        beat(app, monkeypatch)
        wait_for(lambda: settled(client), "every reminder handled", worker.tail, timeout=30)
        time.sleep(1)

    counts = tally(smtp.recorder, expected)
    report(capsys, "deadline moved after planning", counts)
    assert (counts.lost, counts.same_id_repeats, counts.new_id_repeats, counts.unexpected) == ([], 0, [], [])
    assert Reminder.objects.filter(status=Reminder.Status.SENT, lead_days=7).count() == 10


def test_unsubscribing_then_subscribing_again_brings_the_reminders_back(broker, workers, monkeypatch, capsys):
    _, app, client = broker
    with SMTPServer(free_port()) as smtp:
        milestones = applicants(10, lead_days=[7], due_in=timedelta(days=3))
        expected = says(milestones)
        beat(app, monkeypatch)  # planned and on the broker; then everyone clicks "unsubscribe"
        for m in milestones:
            reminders.unsubscribe_from_reminders(user=m.applicant)
        worker = workers(smtp.port)
        wait_for(lambda: harness.queue_drained(client), "the cancelled messages handled", worker.tail)
        assert smtp.recorder.count() == 0

        for profile in ApplicantProfile.objects.all():  # ... and switches reminders back on
            profile.email_reminders = True
            save_profile(profile=profile, replan=False)
        beat(app, monkeypatch)
        wait_for(lambda: settled(client), "every reminder handled", worker.tail, timeout=30)
        time.sleep(1)

    counts = tally(smtp.recorder, expected)
    report(capsys, "unsubscribe then re-subscribe", counts)
    assert (counts.lost, counts.same_id_repeats, counts.new_id_repeats, counts.unexpected) == ([], 0, [], [])
