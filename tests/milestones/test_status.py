"""set_status: hard prerequisites block completion; waiving needs a reason; reminders are cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from milestones.models import Reminder
from milestones.services import PrerequisiteMissing, save_note, set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def test_completion_is_refused_naming_the_missing_hard_prerequisites(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")

    with pytest.raises(PrerequisiteMissing) as exc:
        set_status(milestone=milestone_of(user, "ecfmg_exam_reqs_verified"), status="done", by=user)

    assert isinstance(exc.value, ValidationError)
    message = exc.value.messages[0]
    assert "USMLE Step 1" in message
    assert "USMLE Step 2 CK" in message
    assert "Pathway" in message
    assert milestone_of(user, "ecfmg_exam_reqs_verified").status == "not_started"


def test_soft_and_inapplicable_prerequisites_do_not_block(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    # usmle_step1 needs usmle_registration (IMG only) and nbme_registration (US MD).
    set_status(milestone=milestone_of(user, "nbme_registration"), status="done", by=user)

    assert set_status(milestone=milestone_of(user, "usmle_step1"), status="done", by=user).status == "done"
    # letters_of_recommendation is only a soft prerequisite of the ERAS application.
    for key in [
        "eras_token",
        "personal_statement",
        "mspe_transcript_photo",
        "program_list",
        "program_signals",
    ]:
        set_status(milestone=milestone_of(user, key), status="done", by=user)
    assert (
        set_status(milestone=milestone_of(user, "eras_application"), status="done", by=user).status == "done"
    )


def test_a_waived_prerequisite_counts_as_cleared(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    set_status(
        milestone=milestone_of(user, "nbme_registration"),
        status="waived",
        reason="Registered by my school",
        by=user,
    )

    assert set_status(milestone=milestone_of(user, "usmle_step1"), status="done", by=user).status == "done"


def test_waiving_needs_a_reason(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    with pytest.raises(ValidationError) as exc:
        set_status(milestone=milestone_of(user, "personal_statement"), status="waived", reason="  ", by=user)
    assert "reason" in exc.value.message_dict


def test_completion_cancels_pending_reminders_and_reopening_clears_the_date(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    statement = milestone_of(user, "personal_statement")
    soon = datetime(2026, 12, 1, tzinfo=UTC)
    planned = Reminder.objects.create(milestone=statement, lead_days=30, scheduled_for=soon)
    sent = Reminder.objects.create(
        milestone=statement, lead_days=7, scheduled_for=soon, status=Reminder.Status.SENT
    )

    done = set_status(milestone=statement, status="done", by=user)
    assert done.completed_on == date(2026, 11, 21)
    planned.refresh_from_db()
    sent.refresh_from_db()
    assert planned.status == Reminder.Status.CANCELLED
    assert sent.status == Reminder.Status.SENT

    reopened = set_status(milestone=statement, status="in_progress", by=user)
    assert reopened.completed_on is None
    # The cancelled (never sent) reminder is gone so the planner may plan it again; the sent one stays.
    assert not Reminder.objects.filter(pk=planned.pk).exists()
    assert Reminder.objects.filter(pk=sent.pk, status=Reminder.Status.SENT).exists()


def test_completed_on_uses_the_applicants_own_date_and_refuses_the_future(planned_applicant, milestone_of):
    # 21 Nov 2026 23:30 UTC is already 22 Nov in Karachi.
    with time_machine.travel(datetime(2026, 11, 21, 23, 30, tzinfo=UTC), tick=False):
        user = planned_applicant("US_MD", tz="Asia/Karachi")
        statement = milestone_of(user, "personal_statement")
        assert set_status(milestone=statement, status="done", by=user).completed_on == date(2026, 11, 22)
        with pytest.raises(ValidationError) as exc:
            set_status(
                milestone=statement,
                status="done",
                completed_on=date(2026, 11, 22) + timedelta(days=1),
                by=user,
            )
        assert "completed_on" in exc.value.message_dict


def test_the_change_is_in_the_edit_history_with_who_made_it(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    set_status(milestone=milestone_of(user, "personal_statement"), status="done", by=user)

    latest = milestone_of(user, "personal_statement").history.first()
    assert latest.status == "done"
    assert latest.history_user == user


def test_save_note_keeps_the_text_and_who_wrote_it(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    milestone = milestone_of(user, "personal_statement")

    save_note(milestone=milestone, note="Ask Dr. Khan to read the second draft.", by=user)

    milestone = milestone_of(user, "personal_statement")
    assert milestone.note == "Ask Dr. Khan to read the second draft."
    assert milestone.history.latest().history_user == user
