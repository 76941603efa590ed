"""Season reminders: an interview reminded like a deadline (the lead times, at 09:00 on the applicant's
clock, once), a letter nudged on its day unless uploaded; moved or ended occasions are never mailed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from milestones.models import MatchCycle

from .season_a import apply_to, bulk_programs, season_data  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season_data")]


def test_interview_reminded_at_the_lead_times_once_and_cancelled_when_moved(amira_profile, mailoutbox):
    from programs.season.interviews import save_interview
    from programs.season.models import SeasonReminder
    from programs.season.reminders import deliver_season_reminder, plan_season_reminders

    user = amira_profile.user  # Cairo; the interviews template reminds 7 and 1 days ahead
    cycle = MatchCycle.objects.get(year=2027)
    with time_machine.travel(datetime(2026, 10, 1, 12, tzinfo=UTC), tick=False):
        (application,) = apply_to(user, cycle, bulk_programs(1))
        save_interview(application=application, by=user, starts_local=datetime(2026, 11, 10, 9),
                       time_zone="America/Chicago")
        assert plan_season_reminders() == []  # too early
    with time_machine.travel(datetime(2026, 11, 3, 6, 59, tzinfo=UTC), tick=False):  # 08:59 in Cairo
        assert plan_season_reminders() == []
    with time_machine.travel(datetime(2026, 11, 3, 7, 1, tzinfo=UTC), tick=False):  # 09:01 in Cairo
        (first,) = plan_season_reminders()
        assert plan_season_reminders() == []  # idempotent
        assert deliver_season_reminder(reminder_id=first) == "sent"
        assert deliver_season_reminder(reminder_id=first) == "skipped"  # a duplicate message does nothing
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert "Interview in 7 days" in message.subject
    # 09:00 in Chicago, 17:00 in Cairo (the applicant's zone)
    assert "Tuesday 10 November 2026, 09:00 (America/Chicago)" in message.body and "17:00" in message.body
    assert message.extra_headers["List-Unsubscribe"]
    with time_machine.travel(datetime(2026, 11, 9, 7, 1, tzinfo=UTC), tick=False):
        (second,) = plan_season_reminders()
        # Moved before the one-day reminder went out: the row is cancelled, never sent.
        save_interview(application=application, by=user, starts_local=datetime(2026, 11, 12, 9),
                       time_zone="America/Chicago")
        assert deliver_season_reminder(reminder_id=second) == "cancelled"
        plan_season_reminders()
    assert SeasonReminder.objects.get(pk=second).status == "cancelled"
    assert len(mailoutbox) == 1


def test_letter_nudged_on_its_day_unless_uploaded(amira_profile, mailoutbox):
    from programs.season.letters import save_letter
    from programs.season.models import Letter
    from programs.season.reminders import deliver_season_reminder, plan_season_reminders

    user = amira_profile.user
    cycle = MatchCycle.objects.get(year=2027)
    late = save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Late", nudge_on=date(2026, 9, 15)))
    arrived = save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Prompt", nudge_on=date(2026, 9, 15)))
    with time_machine.travel(datetime(2026, 9, 15, 7, 30, tzinfo=UTC), tick=False):  # 09:30 / 10:30 Cairo
        ids = plan_season_reminders()
        assert len(ids) == 2
        arrived.status = "uploaded"
        save_letter(letter=arrived)
        results = sorted(deliver_season_reminder(reminder_id=pk) for pk in ids)
    assert results == ["cancelled", "sent"]
    assert len(mailoutbox) == 1 and "Dr Late" in mailoutbox[0].subject and late.pk


def test_no_season_reminders_when_reminders_are_off(amira_profile, mailoutbox):
    from programs.season.letters import save_letter
    from programs.season.models import Letter
    from programs.season.reminders import plan_season_reminders

    amira_profile.email_reminders = False
    amira_profile.save()
    cycle = MatchCycle.objects.get(year=2027)
    save_letter(letter=Letter(applicant=amira_profile.user, cycle=cycle, writer="Dr Late", nudge_on=date(2026, 9, 15)))
    with time_machine.travel(datetime(2026, 9, 15, 9, tzinfo=UTC), tick=False):
        assert plan_season_reminders() == []


def test_the_beat_task_plans_and_the_send_task_delivers(amira_profile, mailoutbox, django_capture_on_commit_callbacks):
    from django.conf import settings

    from pathway.celery import app
    from programs.season.letters import save_letter
    from programs.season.models import Letter
    from programs.tasks import plan_season_reminders

    entry = settings.CELERY_BEAT_SCHEDULE["every-5-min-plan-season-reminders"]
    assert entry["schedule"] == 300.0 and entry["task"] in app.tasks
    cycle = MatchCycle.objects.get(year=2027)
    save_letter(letter=Letter(applicant=amira_profile.user, cycle=cycle, writer="Dr Slow", nudge_on=date(2026, 9, 15)))
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with (
            time_machine.travel(datetime(2026, 9, 15, 8, tzinfo=UTC), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert plan_season_reminders.apply().get() == 1
    finally:
        app.conf.task_always_eager = eager
    assert len(mailoutbox) == 1 and "Dr Slow" in mailoutbox[0].subject
