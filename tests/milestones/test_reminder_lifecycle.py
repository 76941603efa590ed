"""Reminders are never lost (issue #10): a reminder belongs to one deadline instant, so a moved deadline,
a re-subscription or a time-zone change re-plans, and failed rows are retried by the sweeper until their
deadline passes. Tasks run in this process with time-machine driving the clock (as in test_reminders.py);
the same faults against a real worker, Redis and SMTP server are in test_reminder_faults.py."""

from __future__ import annotations

import smtplib
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

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
from milestones.services import plan_pathway
from milestones.tasks import send_digest, send_reminder
from pathway.models import User

from . import test_reminders as base

pytestmark = pytest.mark.django_db

# The fixtures of test_reminders.py, used here under the same names.
worker = base.worker
smtp_fails = base.smtp_fails

at, make_applicant, make_milestone, on_enqueue = (
    base.at,
    base.make_applicant,
    base.make_milestone,
    base.on_enqueue,
)
NY = "America/New_York"


def sweep_at(worker, *moments):
    """One beat tick (sweeper + planner, enqueued work run at once) at each moment."""
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            worker["sweep"]()


def plan_only(moment) -> list[int]:
    """Plan at `moment` and hold what would go to the broker, undelivered (a slow or stopped worker)."""
    with time_machine.travel(moment, tick=False):
        return reminders.plan_due_reminders().enqueued


def subjects() -> list[str]:
    return [m.subject.split(" — ", 1)[1] for m in mail.outbox]


def move_deadline(milestone: Milestone, due_at) -> None:
    # As recompute_deadlines writes it: one bulk UPDATE, no signals, no model save.
    Milestone.objects.filter(pk=milestone.pk).update(due_at=due_at)


# --- A moved deadline -------------------------------------------------------------------------------


def test_a_deadline_moved_later_after_a_reminder_was_sent_gets_the_lead_times_of_its_new_date(worker):
    user = make_applicant()
    old, new = at("2027-03-20 21:00", NY), at("2027-04-03 21:00", NY)
    milestone = make_milestone(user, old, lead_days=(7, 1))
    sweep_at(worker, at("2027-03-13 09:05", NY))
    assert subjects() == ["due in 7 days"]

    move_deadline(milestone, new)
    sweep_at(
        worker,
        at("2027-03-19 09:05", NY),  # the old date's "1 day before": nothing, that date is gone
        at("2027-03-27 09:05", NY),  # the new date's "7 days before"
        at("2027-04-02 09:05", NY),  # the new date's "1 day before"
    )

    assert subjects() == ["due in 7 days", "due in 7 days", "due tomorrow"]
    assert "Sat 3 Apr 2027, 9:00 PM EDT" in mail.outbox[1].body
    # The email says the date moved, so it does not read like a repeat of the first one.
    assert "Sat 20 Mar 2027, 9:00 PM EDT" in mail.outbox[1].body and "moved" in mail.outbox[1].body
    assert sorted(milestone.reminders.values_list("lead_days", "due_at", "status")) == [
        (1, new, "sent"),
        (7, old, "sent"),
        (7, new, "sent"),
    ]


def test_a_deadline_moved_after_planning_sends_nothing_stale_and_reminds_on_the_real_day_before(worker):
    user = make_applicant()
    old, new = at("2027-03-20 21:00", NY), at("2027-05-19 21:00", NY)
    milestone = make_milestone(user, old, lead_days=(1,))
    held = plan_only(at("2027-03-19 09:05", NY))
    assert len(held) == 1

    move_deadline(milestone, new)
    with time_machine.travel(at("2027-03-19 09:06", NY), tick=False):
        outcomes = [send_reminder(pk) for pk in held]

    # The "1 day before" reminder of 20 March must not go out saying "due in 61 days".
    assert outcomes == ["cancelled"] and mail.outbox == []
    assert Reminder.objects.get(pk=held[0]).last_error.startswith("deadline moved")

    sweep_at(worker, at("2027-05-18 08:55", NY), at("2027-05-18 09:05", NY))

    assert subjects() == ["due tomorrow"]
    assert "Wed 19 May 2027, 9:00 PM EDT" in mail.outbox[0].body


def test_a_reminder_whose_moment_has_passed_for_the_deadline_is_dropped_for_the_fresher_one(worker):
    user = make_applicant()
    milestone = make_milestone(user, at("2027-03-20 21:00", NY), lead_days=(7, 1))
    # The 7-day reminder was planned but its broker message was lost; the sweeper finds it days later,
    # when the 1-day reminder is due too: one email, the fresh one, not two about the same deadline.
    held = plan_only(at("2027-03-13 09:05", NY))
    sweep_at(worker, at("2027-03-19 09:05", NY))

    assert subjects() == ["due tomorrow"]
    stale = Reminder.objects.get(pk=held[0])
    assert (stale.lead_days, stale.status) == (7, Reminder.Status.CANCELLED)
    assert stale.last_error == "superseded by the 1-day reminder"
    assert milestone.reminders.get(lead_days=1).status == Reminder.Status.SENT


# --- Unsubscribe, re-subscribe, time zone -----------------------------------------------------------


def settings_form(profile, **changes):
    data = {
        "email_reminders": "on" if profile.email_reminders else None,
        "lead_mode": "defaults",
        "lead_days": "",
        "time_zone": profile.time_zone,
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_switching_reminders_back_on_after_unsubscribing_plans_them_again(worker, client):
    user = make_applicant()
    make_milestone(user, at("2027-03-20 21:00", NY), lead_days=(7, 1))
    held = plan_only(at("2027-03-13 09:05", NY))
    reminders.unsubscribe_from_reminders(user=user)  # the one-click link in an earlier email
    with time_machine.travel(at("2027-03-13 09:06", NY), tick=False):
        assert [send_reminder(pk) for pk in held] == ["skipped"]

    with time_machine.travel(at("2027-03-13 10:00", NY), tick=False):
        client.force_login(user)  # in 2027: a session from today's date would have expired
        profile = ApplicantProfile.objects.get(user=user)
        response = client.post(reverse("applicant:settings"), settings_form(profile, email_reminders="on"))
    assert response.status_code == 302 and ApplicantProfile.objects.get(user=user).email_reminders
    sweep_at(worker, at("2027-03-13 10:05", NY), at("2027-03-19 09:05", NY))

    assert subjects() == ["due in 7 days", "due tomorrow"]


def test_a_time_zone_change_that_moves_a_graduation_deadline_replans_its_reminders(worker, client):
    cycle = MatchCycle.objects.create(year=2027, name="2027 Match")
    MilestoneTemplate.objects.create(
        key="diploma_copy",
        title="Send a copy of your diploma",
        phase="certification",
        guidance="Scan it.",
        applies_to=["NON_US_IMG"],
        deadline_kind="applicant",
        deadline_anchor="graduation_date",
        reminder_lead_days=[7, 1],
    )
    user = User.objects.create_user(email="kenji@example.com", password="pw-for-tests-only", name="Kenji")
    ApplicantProfile.objects.create(
        user=user,
        applicant_type="NON_US_IMG",
        graduation_date=date(2027, 6, 30),
        target_cycle=cycle,
        time_zone="Asia/Tokyo",
    )
    plan_pathway(applicant=user)
    milestone = Milestone.objects.get(applicant=user)
    assert milestone.due_at == at("2027-06-30 23:59", "Asia/Tokyo")
    sweep_at(worker, at("2027-06-23 09:05", "Asia/Tokyo"))
    assert subjects() == ["due in 7 days"]

    # Moving to Los Angeles moves the end of graduation day 16 hours later.
    with time_machine.travel(at("2027-06-23 10:00", "Asia/Tokyo"), tick=False):
        client.force_login(user)
        profile = ApplicantProfile.objects.get(user=user)
        client.post(reverse("applicant:settings"), settings_form(profile, time_zone="America/Los_Angeles"))
    milestone.refresh_from_db()
    assert milestone.due_at == at("2027-06-30 23:59", "America/Los_Angeles")
    sweep_at(
        worker, at("2027-06-23 09:05", "America/Los_Angeles"), at("2027-06-29 09:05", "America/Los_Angeles")
    )

    assert subjects() == ["due in 7 days", "due in 7 days", "due tomorrow"]
    assert "11:59 PM PDT" in mail.outbox[1].body


# --- Failed rows: retried by the sweeper until the deadline passes ----------------------------------


@pytest.fixture
def eager_worker(monkeypatch, django_capture_on_commit_callbacks):
    """Like `worker`, but each enqueued reminder runs with Celery's retries (eagerly) and failure
    handler, as a real worker would: an SMTP error is retried, then the row is marked failed."""
    runs: list = []

    def run(pk):
        runs.append((pk, timezone.now()))
        send_reminder.apply(args=[pk])

    on_enqueue(monkeypatch, send_reminder, run)

    def sweep():
        with django_capture_on_commit_callbacks(execute=True):
            tasks.plan_reminders()

    return {"sweep": sweep, "runs": runs}


def test_a_row_failed_by_a_long_outage_is_retried_by_the_sweeper_at_growing_intervals_until_sent(
    eager_worker, smtp_fails, settings
):
    settings.REMINDER_FAILED_RETRY_SECONDS = 600
    settings.REMINDER_FAILED_RETRY_MAX_SECONDS = 2400
    user = make_applicant()
    milestone = make_milestone(user, at("2027-03-20 21:00", NY), lead_days=(7,))
    start = at("2027-03-13 09:00", NY)

    # Beat every five minutes for six hours; the SMTP server is down for the first four.
    moment = start
    while moment <= start + timedelta(hours=6):
        smtp_fails["failing"] = moment < start + timedelta(hours=4)
        with time_machine.travel(moment, tick=False):
            eager_worker["sweep"]()
        moment += timedelta(minutes=5)

    row = milestone.reminders.get()
    assert (row.status, len(mail.outbox)) == (Reminder.Status.SENT, 1)
    tries = [when for _, when in eager_worker["runs"]]
    gaps = [(b - a).total_seconds() / 60 for a, b in zip(tries, tries[1:], strict=False)]
    # Planned at 09:00; failed, then retried after 10, 20, 40, 40, 40... minutes (on the next beat).
    assert gaps[:3] == [10, 20, 40] and all(gap == 40 for gap in gaps[3:-1])
    assert tries[-1] - start <= timedelta(hours=4, minutes=45)


def test_a_failed_row_is_not_retried_once_its_deadline_has_passed(eager_worker, smtp_fails, settings):
    settings.REMINDER_FAILED_RETRY_SECONDS = 600
    user = make_applicant()
    milestone = make_milestone(user, at("2027-03-20 21:00", NY), lead_days=(0,))
    moment = at("2027-03-20 09:00", NY)
    while moment <= at("2027-03-21 03:00", NY):
        with time_machine.travel(moment, tick=False):
            eager_worker["sweep"]()
        moment += timedelta(minutes=5)

    row = milestone.reminders.get()
    assert row.status == Reminder.Status.FAILED and row.retry_at is None
    assert max(when for _, when in eager_worker["runs"]) < at("2027-03-20 21:00", NY)
    assert mail.outbox == []


def test_the_settings_page_says_what_failed_and_why(eager_worker, smtp_fails, settings, client):
    settings.REMINDER_FAILED_RETRY_SECONDS = 600
    user = make_applicant()
    make_milestone(user, at("2027-03-20 21:00", NY), key="rol", lead_days=(7,))
    make_milestone(user, at("2027-03-18 21:00", NY), key="fee", lead_days=(7,))
    smtp_fails["failing"] = False
    with time_machine.travel(at("2027-03-11 09:05", NY), tick=False):
        eager_worker["sweep"]()  # "fee" is sent
    with time_machine.travel(at("2027-03-11 09:10", NY), tick=False):
        client.force_login(user)
        page = client.get(reverse("applicant:settings")).content.decode()
    # Every row is sent: no talk of failures under the table.
    assert "could not be delivered" not in page and "Not delivered" not in page

    smtp_fails["failing"] = True
    with time_machine.travel(at("2027-03-13 09:05", NY), tick=False):
        eager_worker["sweep"]()  # "rol" fails
        page = client.get(reverse("applicant:settings")).content.decode()

    assert "Not delivered yet" in page
    assert "The mail server closed the connection" in page
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in page
    assert "Next try: 13 Mar 2027, 9:15 AM EST" in page
    assert "could not be delivered" not in page  # the old footnote, true of no row in particular


# --- Both planners, with history --------------------------------------------------------------------


def test_both_planners_agree_on_moved_deadlines_cancelled_rows_and_sent_ones(postgres):
    """The SQL planner (production) and the Python one (SQLite) implement one rule: compare them on a
    database where rows of old deadline instants, cancelled rows and sent rows already exist."""
    due = at("2027-03-20 21:00", NY)
    for i, tz in enumerate([NY, "Asia/Karachi", "Pacific/Chatham"]):
        for digest in (False, True):
            user = make_applicant(f"h{i}{digest:d}@example.com", tz=tz, digest=digest)
            for k, offset in enumerate([0, 1, 6, 8, 29]):
                m = make_milestone(
                    user, due + timedelta(days=offset, hours=5 * k), key=f"h{k}", lead_days=(30, 7, 1)
                )
                history = k % 4
                if history == 1:  # its freshest lead was sent for an earlier instant of the deadline
                    Reminder.objects.create(
                        milestone=m, lead_days=1, due_at=m.due_at - timedelta(days=3), scheduled_for=due,
                        status=Reminder.Status.SENT,
                    )  # fmt: skip
                elif history == 2:  # cancelled for this very instant (the applicant unsubscribed)
                    for lead in (30, 7, 1):
                        Reminder.objects.create(
                            milestone=m, lead_days=lead, due_at=m.due_at, scheduled_for=due,
                            status=Reminder.Status.CANCELLED,
                        )  # fmt: skip
                elif history == 3:  # sent for this instant: nothing new
                    for lead in (30, 7, 1):
                        Reminder.objects.create(
                            milestone=m, lead_days=lead, due_at=m.due_at, scheduled_for=due,
                            status=Reminder.Status.SENT,
                        )  # fmt: skip

    def planned_by(insert, now):
        with transaction.atomic():
            rows = insert(now, now + timedelta(days=40))
            found = set(
                Reminder.objects.filter(pk__in=[r.id for r in rows]).values_list(
                    "milestone_id", "lead_days", "due_at", "scheduled_for"
                )
            )
            transaction.set_rollback(True)
        return found

    for now in [at("2027-03-13 08:00"), at("2027-03-19 13:30"), at("2027-03-21 02:00")]:
        portable = planned_by(portable_planner.insert_due, now)
        assert portable, now
        assert planned_by(postgresql_planner.insert_due, now) == portable


def test_a_failed_digest_is_retried_by_the_sweeper_with_its_reminders(
    monkeypatch, smtp_fails, settings, django_capture_on_commit_callbacks
):
    settings.REMINDER_FAILED_RETRY_SECONDS = 600
    on_enqueue(monkeypatch, send_digest, lambda pk: send_digest.apply(args=[pk]))
    on_enqueue(monkeypatch, send_reminder, lambda pk: send_reminder.apply(args=[pk]))
    user = make_applicant(tz="Africa/Cairo", digest=True)
    make_milestone(user, at("2027-03-20 12:00", NY), key="a", lead_days=(7,))
    make_milestone(user, at("2027-03-21 12:00", NY), key="b", lead_days=(7,))

    def tick(moment):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            tasks.plan_reminders()

    tick(at("2027-03-14 08:00", "Africa/Cairo"))  # both 7-day reminders are due: one digest, which fails
    digest = DigestDelivery.objects.get()
    assert (digest.status, digest.retry_at) == (
        Reminder.Status.FAILED,
        at("2027-03-14 08:10", "Africa/Cairo"),
    )
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.FAILED}

    smtp_fails["failing"] = False
    tick(at("2027-03-14 08:05", "Africa/Cairo"))
    assert mail.outbox == []
    tick(at("2027-03-14 08:10", "Africa/Cairo"))

    assert [m.subject for m in mail.outbox] == ["Your deadlines today: 2 reminders"]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<digest-{digest.pk}@pathway.localhost>"
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}


def test_an_address_the_server_refuses_for_good_is_not_retried(eager_worker, monkeypatch, client):
    from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"amira@example.com": (550, b"5.1.1 No such user")})

    monkeypatch.setattr(LocmemBackend, "send_messages", refuse)
    user = make_applicant()
    milestone = make_milestone(user, at("2027-03-20 21:00", NY), lead_days=(7,))
    with time_machine.travel(at("2027-03-13 09:05", NY), tick=False):
        eager_worker["sweep"]()
        client.force_login(user)
        page = client.get(reverse("applicant:settings")).content.decode()

    row = milestone.reminders.get()
    assert (row.status, row.retry_at) == (Reminder.Status.FAILED, None)
    assert "The mail server refused your address" in page and "Not tried again." in page
