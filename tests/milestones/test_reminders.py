"""Deadline reminders: planning on the applicant's clock, one delivery per row, retries, sweeping,
digests and the one-click unsubscribe. Tasks are called directly, with time-machine driving the clock."""

from __future__ import annotations

import email.policy
import smtplib
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from milestones import reminders, tasks
from milestones.models import (
    ApplicantProfile,
    DigestDelivery,
    MatchCycle,
    Milestone,
    MilestoneTemplate,
    Reminder,
)
from milestones.reminders import portable as portable_planner
from milestones.reminders import postgresql as postgresql_planner
from milestones.tasks import plan_reminders, send_digest, send_reminder, send_reminders
from pathway.models import User

pytestmark = pytest.mark.django_db

ET = ZoneInfo("America/New_York")


def at(text: str, tz: str = "UTC") -> datetime:
    """An aware instant from 'YYYY-MM-DD HH:MM' on `tz`'s wall clock."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(tz))


def make_applicant(email="amira@example.com", *, tz="America/New_York", lead_days=None, digest=False):
    cycle, _ = MatchCycle.objects.get_or_create(year=2027, defaults={"name": "2027 Match"})
    user = User.objects.create_user(
        email=email, password="pw-for-tests-only", name=email.split("@")[0].title()
    )
    ApplicantProfile.objects.create(
        user=user,
        applicant_type="NON_US_IMG",
        graduation_date="2025-06-30",
        target_cycle=cycle,
        time_zone=tz,
        reminder_lead_days=lead_days,
        daily_digest=digest,
    )
    return user


def make_milestone(
    user, due_at, *, key="nrmp_rol", lead_days=(30, 7, 1), projected=False, status="not_started"
):
    template, _ = MilestoneTemplate.objects.get_or_create(
        key=key,
        defaults={
            "title": f"Certify your rank order list ({key})",
            "phase": "match",
            "guidance": "Log in to R3 and certify your list. Uncertified lists do not count. Then relax.\n\nMore.",
            "reminder_lead_days": list(lead_days),
        },
    )
    return Milestone.objects.create(
        applicant=user, template=template, due_at=due_at, due_projected=projected, status=status
    )


def on_enqueue(monkeypatch, task, handle):
    """Intercept what planning hands to the broker: `handle(id)` is called for each enqueued id.

    Reminder ids go to the broker in batches (`send_reminders`); each id of a batch is handed to
    `handle` as if it had come alone (the batch task is tested on its own in test_reminder_batches.py).
    """
    monkeypatch.setattr(task, "apply_async", lambda args, **options: handle(args[0]))
    if task is send_reminder:
        monkeypatch.setattr(
            send_reminders, "apply_async", lambda args, **options: [handle(pk) for pk in args[0]]
        )


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks):
    """Runs what would be enqueued at once, as a worker would, and records the ids it was given."""
    seen = {"reminders": [], "digests": []}

    def run_reminder(pk):
        seen["reminders"].append(pk)
        send_reminder(pk)

    def run_digest(pk):
        seen["digests"].append(pk)
        send_digest(pk)

    on_enqueue(monkeypatch, send_reminder, run_reminder)
    on_enqueue(monkeypatch, send_digest, run_digest)

    def sweep():
        with django_capture_on_commit_callbacks(execute=True):
            plan_reminders()

    seen["sweep"] = sweep
    return seen


@pytest.fixture
def smtp_fails(monkeypatch):
    """Make the mail backend fail like an SMTP server that hung up; returns a switch to heal it."""
    state = {"failing": True}
    original = LocmemBackend.send_messages

    def send_messages(self, messages):
        if state["failing"]:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self, messages)

    monkeypatch.setattr(LocmemBackend, "send_messages", send_messages)
    return state


def walk_hourly(start: datetime, end: datetime, sweep):
    moment = start
    while moment <= end:
        with time_machine.travel(moment, tick=False):
            sweep()
        moment += timedelta(hours=1)


# --- When reminders go out ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "deadline", "expected"),
    [
        # US clocks spring forward on Sun 14 Mar 2027: the 7-day reminder is 09:00 EST, the 1-day 09:00 EDT.
        (
            "America/New_York",
            at("2027-03-20 21:00", "America/New_York"),
            {30: "2027-02-18 14:00", 7: "2027-03-13 14:00", 1: "2027-03-19 13:00"},
        ),
        # EU clocks spring forward on Sun 28 Mar 2027.
        (
            "Europe/London",
            at("2027-03-30 17:00", "Europe/London"),
            {30: "2027-02-28 09:00", 7: "2027-03-23 09:00", 1: "2027-03-29 08:00"},
        ),
        # US clocks fall back on Sun 7 Nov 2027; Karachi has no DST but the deadline is set in ET.
        (
            "Asia/Karachi",
            at("2027-11-09 21:00", "America/New_York"),
            {30: "2027-10-11 04:00", 7: "2027-11-03 04:00", 1: "2027-11-09 04:00"},
        ),
    ],
)
def test_it_sends_each_lead_time_once_at_nine_on_the_applicants_clock(worker, tz, deadline, expected):
    user = make_applicant(tz=tz)
    milestone = make_milestone(user, deadline)

    walk_hourly(deadline - timedelta(days=32), deadline + timedelta(hours=2), worker["sweep"])

    rows = {r.lead_days: r for r in Reminder.objects.filter(milestone=milestone)}
    assert {lead: f"{r.scheduled_for.astimezone(UTC):%Y-%m-%d %H:%M}" for lead, r in rows.items()} == expected
    assert all(r.status == Reminder.Status.SENT for r in rows.values())
    # Planned by the first sweep at or after the send instant, never before it.
    assert all(r.created_at == r.scheduled_for for r in rows.values())
    assert all(r.scheduled_for.astimezone(ZoneInfo(tz)).hour == 9 for r in rows.values())
    assert len(mail.outbox) == 3
    assert sorted(worker["reminders"]) == sorted(r.pk for r in rows.values())


def test_it_reminds_an_hour_before_a_deadline_that_falls_before_nine():
    deadline = at("2027-03-20 08:30", "America/New_York")
    assert reminders.reminder_send_at(deadline, 0, ET) == deadline - timedelta(hours=1)
    assert reminders.reminder_send_at(deadline, 1, ET) == at("2027-03-19 09:00", "America/New_York")


def test_it_plans_only_the_freshest_lead_time_when_several_are_due_at_once(worker):
    user = make_applicant()
    milestone = make_milestone(user, at("2027-03-20 21:00", "America/New_York"))

    # Joined 5 days before the deadline: the 30- and 7-day reminders are both overdue.
    with time_machine.travel(at("2027-03-15 12:00", "America/New_York"), tick=False):
        worker["sweep"]()

    assert list(Reminder.objects.filter(milestone=milestone).values_list("lead_days", flat=True)) == [7]
    assert len(mail.outbox) == 1


def test_it_plans_nothing_new_when_the_sweep_runs_twice(worker, monkeypatch):
    user = make_applicant()
    make_milestone(user, at("2027-03-20 21:00", "America/New_York"))
    on_enqueue(monkeypatch, send_reminder, lambda pk: worker["reminders"].append(pk))

    with time_machine.travel(at("2027-03-13 09:05", "America/New_York"), tick=False):
        first = reminders.plan_due_reminders()
        second = reminders.plan_due_reminders()

    assert len(first.planned) == 1
    assert second.planned == [] and second.enqueued == []
    assert Reminder.objects.count() == 1


def test_it_enqueues_new_rows_only_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    user = make_applicant()
    make_milestone(user, at("2027-03-20 21:00", "America/New_York"))
    enqueued = []
    on_enqueue(monkeypatch, send_reminder, enqueued.append)

    with time_machine.travel(at("2027-03-13 09:05", "America/New_York"), tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            result = tasks.plan_and_enqueue()
        assert enqueued == []
        for callback in callbacks:
            callback()

    assert enqueued == result.planned


def test_it_plans_nothing_for_closed_inapplicable_or_opted_out_milestones(worker):
    due = at("2027-03-20 21:00", "America/New_York")
    make_milestone(make_applicant("done@example.com"), due, status="done")
    make_milestone(make_applicant("waived@example.com"), due, status="waived")
    Milestone.objects.filter(pk=make_milestone(make_applicant("na@example.com"), due).pk).update(
        is_applicable=False
    )
    quiet = make_applicant("quiet@example.com")
    ApplicantProfile.objects.filter(user=quiet).update(email_reminders=False)
    make_milestone(quiet, due)
    gone = make_applicant("gone@example.com")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    make_milestone(gone, due)

    walk_hourly(due - timedelta(days=8), due, worker["sweep"])

    assert Reminder.objects.count() == 0
    assert mail.outbox == []


def test_it_plans_nothing_when_nobody_wants_email():
    user = make_applicant()
    ApplicantProfile.objects.filter(user=user).update(email_reminders=False)
    make_milestone(user, at("2027-03-20 21:00", "America/New_York"))

    with time_machine.travel(at("2027-03-19 10:00", "America/New_York"), tick=False):
        assert reminders.plan_due_reminders().planned == []


def test_it_uses_the_applicants_own_lead_times_when_set(worker):
    user = make_applicant(lead_days=[3])
    milestone = make_milestone(user, at("2027-03-20 21:00", "America/New_York"))

    walk_hourly(at("2027-03-10 00:00"), at("2027-03-20 23:00"), worker["sweep"])

    assert list(milestone.reminders.values_list("lead_days", flat=True)) == [3]


# --- Delivery: re-checks, claims, retries -----------------------------------------------------------


@pytest.fixture
def due_reminder(monkeypatch):
    """One planned reminder whose moment has come, not yet delivered."""
    user = make_applicant(tz="Asia/Karachi")
    milestone = make_milestone(user, at("2027-03-03 21:00", "America/New_York"), projected=True)
    on_enqueue(monkeypatch, send_reminder, lambda pk: None)
    with time_machine.travel(at("2027-03-02 09:30", "Asia/Karachi"), tick=False):
        reminders.plan_due_reminders()
    return milestone.reminders.get()


@time_machine.travel(datetime(2027, 3, 2, 6, 0, tzinfo=UTC), tick=False)
def test_it_sends_nothing_once_the_milestone_is_completed(due_reminder):
    from milestones.services import set_status

    set_status(milestone=due_reminder.milestone, status="done", by=due_reminder.milestone.applicant)

    assert send_reminder(due_reminder.pk) == "skipped"
    assert mail.outbox == []
    due_reminder.refresh_from_db()
    assert due_reminder.status == Reminder.Status.CANCELLED


@time_machine.travel(datetime(2027, 3, 2, 6, 0, tzinfo=UTC), tick=False)
def test_it_cancels_at_send_time_when_the_world_changed_after_planning(due_reminder):
    # Completed behind the services' back (e.g. a bulk admin edit): the send-time re-check still holds.
    Milestone.objects.filter(pk=due_reminder.milestone_id).update(status="done")

    assert send_reminder(due_reminder.pk) == "cancelled"
    assert mail.outbox == []
    due_reminder.refresh_from_db()
    assert (due_reminder.status, due_reminder.last_error) == (
        Reminder.Status.CANCELLED,
        "milestone is no longer open",
    )


@time_machine.travel(datetime(2027, 3, 2, 6, 0, tzinfo=UTC), tick=False)
def test_it_delivers_a_row_once_however_often_it_is_enqueued(due_reminder):
    assert [send_reminder(due_reminder.pk) for _ in range(3)] == ["sent", "skipped", "skipped"]
    assert len(mail.outbox) == 1
    due_reminder.refresh_from_db()
    assert (due_reminder.status, due_reminder.attempts) == (Reminder.Status.SENT, 1)
    assert due_reminder.sent_at == datetime(2027, 3, 2, 6, 0, tzinfo=UTC)


@time_machine.travel(datetime(2027, 3, 2, 6, 0, tzinfo=UTC), tick=False)
def test_the_email_names_the_milestone_deadline_guidance_link_and_unsubscribe(due_reminder):
    send_reminder(due_reminder.pk)

    message = mail.outbox[0]
    assert message.to == ["amira@example.com"]
    assert (
        message.subject
        == "Reminder: Certify your rank order list (nrmp_rol) — due in 2 days (projected date)"
    )
    assert "Wed 3 Mar 2027, 9:00 PM EST (7:00 AM PKT on 4 Mar)" in message.body
    assert "PROJECTED" in message.body
    assert "Log in to R3 and certify your list. Uncertified lists do not count." in message.body
    assert "/milestones/nrmp_rol/" in message.body
    assert message.extra_headers["Message-ID"] == f"<reminder-{due_reminder.pk}@pathway.localhost>"
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "(projected)" in html and unsubscribe in html
    # On the wire the URL must stay literal (not RFC 2047-encoded), or providers cannot use it.
    wire = message.message(policy=email.policy.SMTP).as_bytes()
    assert f"List-Unsubscribe: <{unsubscribe}>\r\n".encode() in wire


def test_it_formats_a_deadline_on_the_official_clock_and_the_applicants():
    due = at("2027-03-03 21:00", "America/New_York")
    assert (
        reminders.format_deadline(due, ZoneInfo("Asia/Karachi"))
        == "Wed 3 Mar 2027, 9:00 PM EST (7:00 AM PKT on 4 Mar)"
    )
    assert reminders.format_deadline(due, ET) == "Wed 3 Mar 2027, 9:00 PM EST"
    assert (
        reminders.format_deadline(due, ZoneInfo("America/Los_Angeles"))
        == "Wed 3 Mar 2027, 9:00 PM EST (6:00 PM PST)"
    )


@time_machine.travel(datetime(2027, 3, 2, 6, 0, tzinfo=UTC), tick=False)
def test_an_smtp_error_puts_the_row_back_and_the_retry_sends_it(due_reminder, smtp_fails, monkeypatch):
    calls = []
    real = reminders.deliver_reminder

    def deliver_then_heal(**kwargs):
        calls.append(kwargs)
        try:
            return real(**kwargs)
        finally:
            due_reminder.refresh_from_db()
            calls[-1] = (due_reminder.status, due_reminder.last_error)
            smtp_fails["failing"] = False

    monkeypatch.setattr(reminders, "deliver_reminder", deliver_then_heal)

    result = send_reminder.apply(args=[due_reminder.pk])

    assert result.successful()
    # First attempt: back to planned with the error recorded; the retry claimed it again and sent it.
    assert calls[0] == (Reminder.Status.PLANNED, "SMTPServerDisconnected: Connection unexpectedly closed")
    assert len(calls) == 2
    due_reminder.refresh_from_db()
    assert (due_reminder.status, due_reminder.attempts, due_reminder.last_error) == (
        Reminder.Status.SENT,
        2,
        "",
    )
    assert len(mail.outbox) == 1


@time_machine.travel(datetime(2027, 3, 2, 6, 0, tzinfo=UTC), tick=False)
def test_it_marks_the_row_failed_when_retries_run_out(due_reminder, smtp_fails):
    result = send_reminder.apply(args=[due_reminder.pk])

    assert result.failed()
    due_reminder.refresh_from_db()
    assert due_reminder.status == Reminder.Status.FAILED
    assert due_reminder.attempts == send_reminder.max_retries + 1
    assert due_reminder.last_error.startswith("SMTPServerDisconnected")
    assert list(reminders.reminders_for(due_reminder.milestone.applicant)) == [due_reminder]


def test_the_sweeper_returns_stuck_rows_and_reenqueues_orphans(
    due_reminder, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    on_enqueue(monkeypatch, send_reminder, enqueued.append)
    claimed_at = datetime(2027, 3, 2, 6, 0, tzinfo=UTC)
    # A worker claimed it and died before marking it sent.
    Reminder.objects.filter(pk=due_reminder.pk).update(status=Reminder.Status.SENDING, claimed_at=claimed_at)

    with (
        time_machine.travel(claimed_at + timedelta(minutes=9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.requeue_and_enqueue() == 0
    due_reminder.refresh_from_db()
    assert due_reminder.status == Reminder.Status.SENDING and enqueued == []

    with time_machine.travel(claimed_at + timedelta(minutes=11), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.requeue_and_enqueue() == 1
        due_reminder.refresh_from_db()
        assert due_reminder.status == Reminder.Status.PLANNED and enqueued == [due_reminder.pk]
        assert send_reminder(due_reminder.pk) == "sent"


def test_reminders_for_lists_sent_and_failed_newest_first(worker):
    user = make_applicant()
    first = make_milestone(user, at("2027-03-20 21:00", "America/New_York"), key="a")
    second = make_milestone(user, at("2027-03-25 21:00", "America/New_York"), key="b")
    make_milestone(user, at("2027-04-30 21:00", "America/New_York"), key="c")
    with time_machine.travel(at("2027-03-19 10:00", "America/New_York"), tick=False):
        worker["sweep"]()
    Reminder.objects.filter(milestone=first).update(status=Reminder.Status.FAILED)

    listed = list(reminders.reminders_for(user))

    # first's 1-day reminder (19 Mar) is newer than second's 7-day one (18 Mar); "c" is not due yet.
    assert [(r.milestone_id, r.status) for r in listed] == [
        (first.pk, Reminder.Status.FAILED),
        (second.pk, Reminder.Status.SENT),
    ]


def test_the_management_command_runs_one_sweep(monkeypatch, django_capture_on_commit_callbacks):
    on_enqueue(monkeypatch, send_reminder, lambda pk: None)
    make_milestone(make_applicant(), at("2027-03-20 21:00", "America/New_York"))
    out = StringIO()

    with time_machine.travel(at("2027-03-19 10:00", "America/New_York"), tick=False):
        call_command("plan_reminders", stdout=out)
        call_command("plan_reminders", stdout=out)

    assert out.getvalue().splitlines() == [
        "Planned 1 reminders (1 enqueued, 0 new digests); requeued 0.",
        "Planned 0 reminders (0 enqueued, 0 new digests); requeued 0.",
    ]


# --- Daily digest ----------------------------------------------------------------------------------


def test_digest_applicants_get_one_email_a_day_at_eight_listing_what_came_due(worker):
    user = make_applicant(tz="Africa/Cairo", digest=True)
    a = make_milestone(user, at("2027-03-20 12:00", "America/New_York"), key="a")
    b = make_milestone(user, at("2027-03-14 12:00", "America/New_York"), key="b")

    walk_hourly(
        at("2027-03-12 00:00", "Africa/Cairo"), at("2027-03-13 23:00", "Africa/Cairo"), worker["sweep"]
    )

    digests = list(DigestDelivery.objects.order_by("local_date"))
    assert [(d.local_date.isoformat(), d.status, d.sent_at) for d in digests] == [
        ("2027-03-12", Reminder.Status.SENT, at("2027-03-12 08:00", "Africa/Cairo")),
        ("2027-03-13", Reminder.Status.SENT, at("2027-03-13 08:00", "Africa/Cairo")),
    ]
    assert sorted(Reminder.objects.values_list("milestone_id", "lead_days", "digest_id", "status")) == sorted(
        [
            (a.pk, 30, digests[0].pk, "sent"),  # on the 12th only a's 30-day and b's 7-day were due
            (b.pk, 7, digests[0].pk, "sent"),
            (a.pk, 7, digests[1].pk, "sent"),
            (b.pk, 1, digests[1].pk, "sent"),
        ]
    )
    assert worker["reminders"] == []
    assert [m.subject for m in mail.outbox] == ["Your deadlines today: 2 reminders"] * 2
    assert mail.outbox[1].extra_headers["Message-ID"] == f"<digest-{digests[1].pk}@pathway.localhost>"
    assert "Certify your rank order list (a)" in mail.outbox[1].body


def test_a_digest_is_sent_once_however_often_it_is_enqueued(worker):
    user = make_applicant(tz="Africa/Cairo", digest=True)
    make_milestone(user, at("2027-03-20 12:00", "America/New_York"))
    with time_machine.travel(at("2027-03-13 08:00", "Africa/Cairo"), tick=False):
        worker["sweep"]()
        digest = DigestDelivery.objects.get()
        assert send_digest(digest.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_a_failing_digest_is_retried_then_marked_failed_with_its_reminders(smtp_fails, monkeypatch):
    on_enqueue(monkeypatch, send_digest, lambda pk: None)
    user = make_applicant(tz="Africa/Cairo", digest=True)
    make_milestone(user, at("2027-03-20 12:00", "America/New_York"))
    with time_machine.travel(at("2027-03-13 08:00", "Africa/Cairo"), tick=False):
        with transaction.atomic():
            result = reminders.plan_due_reminders()
        result = send_digest.apply(args=[result.digests[0]])

    assert result.failed()
    assert DigestDelivery.objects.get().status == Reminder.Status.FAILED
    assert list(Reminder.objects.values_list("status", flat=True)) == [Reminder.Status.FAILED]


def test_an_urgent_reminder_before_the_digest_hour_goes_alone(worker):
    user = make_applicant(tz="Africa/Cairo", digest=True)
    # Due at 07:30 Cairo: the last-call reminder is at 06:30, before the 08:00 digest.
    milestone = make_milestone(user, at("2027-03-13 07:30", "Africa/Cairo"), lead_days=[0])

    walk_hourly(
        at("2027-03-13 00:30", "Africa/Cairo"), at("2027-03-13 07:30", "Africa/Cairo"), worker["sweep"]
    )

    assert worker["reminders"] == [milestone.reminders.get().pk]
    assert DigestDelivery.objects.count() == 0
    assert len(mail.outbox) == 1


# --- One-click unsubscribe -------------------------------------------------------------------------


def test_unsubscribe_get_asks_first_and_changes_nothing(client):
    user = make_applicant()
    response = client.get(reverse("applicant:reminder_unsubscribe", args=[reminders.unsubscribe_token(user)]))

    assert response.status_code == 200
    assert b"Stop reminder emails" in response.content and b'<form method="post"' in response.content
    assert ApplicantProfile.objects.get(user=user).email_reminders is True


def test_one_click_unsubscribe_works_without_a_csrf_token_and_cancels_planned_reminders(due_reminder):
    user = due_reminder.milestone.applicant
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        reverse("applicant:reminder_unsubscribe", args=[reminders.unsubscribe_token(user)]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200 and b"no more reminder emails" in response.content
    assert ApplicantProfile.objects.get(user=user).email_reminders is False
    due_reminder.refresh_from_db()
    assert due_reminder.status == Reminder.Status.CANCELLED


@pytest.mark.parametrize("tamper", ["garbage", "swap-user"])
def test_a_bad_unsubscribe_token_is_a_404_and_changes_nothing(client, tamper):
    user = make_applicant()
    other = make_applicant("carla@example.com")
    if tamper == "garbage":
        token = "not-a-token"
    else:  # carla's payload under amira's signature
        _, stamp, signature = reminders.unsubscribe_token(user).split(":")
        token = ":".join([reminders.unsubscribe_token(other).split(":")[0], stamp, signature])

    response = client.post(reverse("applicant:reminder_unsubscribe", args=[token]))

    assert response.status_code == 404
    assert b"This unsubscribe link is not valid" in response.content
    assert set(ApplicantProfile.objects.values_list("email_reminders", flat=True)) == {True}


def test_an_expired_unsubscribe_token_is_a_404(client):
    user = make_applicant()
    with time_machine.travel(datetime(2027, 1, 1, tzinfo=UTC), tick=False):
        token = reminders.unsubscribe_token(user)
    with time_machine.travel(datetime(2028, 1, 3, tzinfo=UTC), tick=False):
        response = client.post(reverse("applicant:reminder_unsubscribe", args=[token]))

    assert response.status_code == 404
    assert ApplicantProfile.objects.get(user=user).email_reminders is True


def test_a_token_for_another_purpose_does_not_unsubscribe(client):
    from django.core import signing

    user = make_applicant()
    token = signing.dumps({"u": user.pk}, salt="some.other.feature")

    assert client.post(reverse("applicant:reminder_unsubscribe", args=[token])).status_code == 404
    assert ApplicantProfile.objects.get(user=user).email_reminders is True


# --- Wiring ---------------------------------------------------------------------------------------


def test_beat_runs_the_sweep_every_five_minutes_on_a_utc_interval():
    from django.conf import settings

    from pathway.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["every-5-min-plan-reminders"]
    assert entry["schedule"] == 300.0 and settings.CELERY_TIMEZONE == "UTC"
    assert entry["task"] in app.tasks
    assert send_reminder.acks_late and settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_a_dead_worker_process_leaves_the_row_to_the_sweeper(due_reminder):
    from billiard.exceptions import WorkerLostError

    Reminder.objects.filter(pk=due_reminder.pk).update(status=Reminder.Status.SENDING)
    send_reminder.on_failure(WorkerLostError("killed"), "task-id", (due_reminder.pk,), {}, None)
    # Even a planned row is not failed for a lost worker: the broker or the sweeper will retry it.
    Reminder.objects.filter(pk=due_reminder.pk).update(status=Reminder.Status.PLANNED)
    send_reminder.on_failure(WorkerLostError("killed"), "task-id", (due_reminder.pk,), {}, None)

    due_reminder.refresh_from_db()
    assert due_reminder.status == Reminder.Status.PLANNED


def test_the_postgresql_sweep_plans_exactly_what_the_portable_one_does(postgres):
    """Both paths implement one rule; on PostgreSQL the SQL one runs in production, so compare them."""
    due = at("2027-03-20 21:00", "America/New_York")
    zones = [
        "America/New_York",
        "Europe/London",
        "Asia/Karachi",
        "Africa/Cairo",
        "Pacific/Chatham",
        "Asia/Kolkata",
    ]
    for i, tz in enumerate(zones):
        for digest in (False, True):
            user = make_applicant(
                f"u{i}{digest:d}@example.com", tz=tz, digest=digest, lead_days=[5, 2] if i == 2 else None
            )
            for k, offset in enumerate([-1, 0, 1, 2, 6, 7, 8, 29, 31, 40]):
                make_milestone(
                    user, due + timedelta(days=offset, hours=3 * k), key=f"t{k}", lead_days=(30, 7, 1, 0)
                )
    ApplicantProfile.objects.filter(user__email="u00@example.com").update(reminder_lead_days=["junk", -3, 7])
    moments = [at("2027-03-13 08:00"), at("2027-03-19 13:30"), at("2027-03-21 02:00")]

    def planned_by(insert, now):
        with transaction.atomic():
            rows = insert(now, now + timedelta(days=40))
            found = set(
                Reminder.objects.filter(pk__in=[r.id for r in rows]).values_list(
                    "milestone_id", "lead_days", "scheduled_for"
                )
            )
            transaction.set_rollback(True)
        return found

    for now in moments:
        portable = planned_by(portable_planner.insert_due, now)
        assert portable, now
        assert planned_by(postgresql_planner.insert_due, now) == portable
