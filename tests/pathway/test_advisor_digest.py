"""The advisor's stored risk flags and weekly digest: flags raised and cleared by the risk service, one
digest per advisor and week, sent once, its one-click opt-out; end to end through a real Celery worker
and a real SMTP server on loopback."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from milestones.models import Milestone
from pathway.advising.digest import (
    advisor_for_opt_out_token,
    deliver_advisor_digest,
    mark_advisor_digest_failed,
    opt_out_token,
    plan_weekly_digests,
    week_of,
)
from pathway.advising.flags import refresh_risk_flags
from pathway.models import AdvisorAssignment, AdvisorDigest, AdvisorSettings, StudentRiskFlag

from ..factories import PlannedProfileFactory, UserFactory

NOV_2026 = datetime(2026, 11, 21, 12, tzinfo=UTC)
# Monday 1 Mar 2027: two days before the 2027 rank order list deadline (Wed 3 Mar, 9 p.m. ET).
ROL_WEEK = datetime(2027, 3, 1, 15, tzinfo=UTC)


def advise(advisor, *kinds):
    students = []
    with time_machine.travel(NOV_2026, tick=False):
        for kind in kinds:
            student = PlannedProfileFactory(applicant_type=kind, specialties=["Pediatrics"]).user
            AdvisorAssignment.objects.create(advisor=advisor, applicant=student, accepted_at=timezone.now())
            # Everything done but the rank order list: its flag is the only one in the week of the deadline.
            Milestone.objects.filter(applicant=student).exclude(template__key="rank_order_list").update(status="done")
            students.append(student)
    return students


@pytest.mark.django_db
def test_flags_are_raised_once_and_cleared_when_the_risk_goes(pathway_data):
    advisor = UserFactory(advisor=True)
    (student,) = advise(advisor, "US_MD")
    assert refresh_risk_flags(applicant_ids=[student.pk], now=ROL_WEEK) == 1
    assert refresh_risk_flags(applicant_ids=[student.pk], now=ROL_WEEK + timedelta(hours=1)) == 0
    flag = StudentRiskFlag.objects.active().get(applicant=student)
    assert (flag.code, flag.since) == ("rol_not_certified", ROL_WEEK)  # the first time it was seen
    Milestone.objects.filter(applicant=student, template__key="rank_order_list").update(status="done")
    refresh_risk_flags(applicant_ids=[student.pk], now=ROL_WEEK + timedelta(hours=2))
    assert not StudentRiskFlag.objects.active().filter(applicant=student).exists()
    assert StudentRiskFlag.objects.get(pk=flag.pk).cleared_at == ROL_WEEK + timedelta(hours=2)


@pytest.mark.django_db
def test_a_students_change_refreshes_their_flags_after_commit(pathway_data, django_capture_on_commit_callbacks):
    from milestones.services import set_status

    advisor = UserFactory(advisor=True)
    (student,) = advise(advisor, "US_MD")
    with time_machine.travel(ROL_WEEK, tick=False):
        refresh_risk_flags(applicant_ids=[student.pk])
        assert StudentRiskFlag.objects.active().filter(applicant=student, code="rol_not_certified").exists()
        rol = Milestone.objects.get(applicant=student, template__key="rank_order_list")
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            set_status(milestone=rol, status="in_progress", by=student)
            set_status(milestone=rol, status="waived", by=student, reason="Not ranking this year")
        assert len(callbacks) == 1  # once per transaction, however many saves
    assert not StudentRiskFlag.objects.active().filter(applicant=student, code="rol_not_certified").exists()


@pytest.mark.django_db
def test_one_digest_per_advisor_and_week_sent_once(pathway_data):
    advisor = UserFactory(advisor=True, email="cora@example.com", name="Cora Advisor")
    lonely = UserFactory(advisor=True, email="lonely@example.com")  # no students: no digest
    advise(advisor, "US_MD", "NON_US_IMG")
    with time_machine.travel(ROL_WEEK, tick=False):
        refresh_risk_flags()
        first = plan_weekly_digests()
        assert plan_weekly_digests() == first and len(first) == 1  # planned once
        digest = AdvisorDigest.objects.get(pk=first[0])
        assert (digest.advisor, digest.week_of) == (advisor, week_of(ROL_WEEK))
        assert not AdvisorDigest.objects.filter(advisor=lonely).exists()
        assert deliver_advisor_digest(digest_id=digest.pk) == "sent"
        assert deliver_advisor_digest(digest_id=digest.pk) == "skipped"
        assert plan_weekly_digests() == []  # sent: nothing left to enqueue this week
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cora@example.com"]
    assert "Rank order list not certified" in message.body
    assert "Certify your rank order list" in message.body  # a deadline of the coming week
    assert message.extra_headers["Message-ID"] == f"<advisor-digest-{digest.pk}@pathway.localhost>"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert link.endswith(reverse("advisor:digest_opt_out", args=[token]))
    assert advisor_for_opt_out_token(token) == advisor


@pytest.mark.django_db
def test_only_new_flags_are_news_the_next_week(pathway_data):
    advisor = UserFactory(advisor=True)
    advise(advisor, "US_MD")
    with time_machine.travel(ROL_WEEK, tick=False):
        refresh_risk_flags()
        deliver_advisor_digest(digest_id=plan_weekly_digests()[0])
    with time_machine.travel(ROL_WEEK + timedelta(days=7), tick=False):
        # The deadline has passed with the list uncertified: the Match is now out of reach (new), the
        # uncertified list is last week's news.
        refresh_risk_flags()
        assert deliver_advisor_digest(digest_id=plan_weekly_digests()[0]) == "sent"
    assert len(mail.outbox) == 2
    second = mail.outbox[1].body
    assert "Target Match no longer reachable" in second and "Rank order list not certified" not in second
    with time_machine.travel(ROL_WEEK + timedelta(days=14), tick=False):
        refresh_risk_flags()
        # Nothing new and no deadline in the coming week: nothing to report, no email.
        assert deliver_advisor_digest(digest_id=plan_weekly_digests()[0]) == "cancelled"
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_one_click_opt_out(client, pathway_data):
    advisor = UserFactory(advisor=True)
    advise(advisor, "US_MD")
    with time_machine.travel(ROL_WEEK, tick=False):
        digest_id = plan_weekly_digests()[0]
        url = reverse("advisor:digest_opt_out", args=[opt_out_token(advisor)])
        assert client.get(url).status_code == 200  # a GET (a link scanner) only asks
        assert AdvisorDigest.objects.get(pk=digest_id).status == "planned"
        assert client.post(url).status_code == 200  # RFC 8058: no cookie, no CSRF token
        assert AdvisorDigest.objects.get(pk=digest_id).status == "cancelled"
        assert AdvisorSettings.objects.get(advisor=advisor).weekly_digest is False
        assert plan_weekly_digests() == []
    assert mail.outbox == []
    forged = reverse("advisor:digest_opt_out", args=[opt_out_token(advisor)[:-2] + "xx"])
    assert client.post(forged).status_code == 404


@pytest.mark.django_db
def test_the_settings_page_sets_interview_targets_and_the_digest(client, pathway_data):
    advisor = UserFactory(advisor=True)
    client.force_login(advisor)
    url = reverse("advisor:workspace_settings")
    bad = client.post(url, {"action": "target", "specialty": "Pediatrics", "interviews": "0", "by_date": "soon"})
    assert bad.status_code == 422 and not advisor.interview_targets.exists()
    client.post(url, {"action": "target", "specialty": "Pediatrics", "interviews": "12", "by_date": "2027-01-15"})
    client.post(url, {"action": "target", "specialty": "Pediatrics", "interviews": "10", "by_date": "2027-01-15"})
    assert [(t.specialty, t.interviews) for t in advisor.interview_targets.all()] == [("Pediatrics", 10)]
    client.post(url, {"action": "digest"})  # the box unticked
    assert AdvisorSettings.objects.get(advisor=advisor).weekly_digest is False
    target = advisor.interview_targets.get()
    stranger = UserFactory(advisor=True)
    client.force_login(stranger)
    client.post(url, {"action": "remove", "pk": target.pk})
    assert advisor.interview_targets.exists()  # not the stranger's to remove


@pytest.mark.django_db
def test_a_change_to_many_students_is_left_to_the_worker(pathway_data, django_capture_on_commit_callbacks, monkeypatch):
    from celery import current_app

    from pathway.advising import flags

    from .cohort_world import seed_cohort

    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, *a, **k: sent.append(name))
    judged = []
    monkeypatch.setattr(flags, "refresh_risk_flags", lambda **kwargs: judged.append(kwargs))
    students = seed_cohort(UserFactory(advisor=True), flags.INLINE_LIMIT + 1)
    with django_capture_on_commit_callbacks(execute=True):
        for milestone in Milestone.objects.filter(applicant__in=students, template__key="rank_order_list"):
            milestone.save()
    assert sent == ["pathway.tasks.refresh_risk_flags"] and judged == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Milestone.objects.filter(applicant=students[0]).first().save()
    assert judged == [{"applicant_ids": {students[0].pk}}], (sent, callbacks)


@pytest.mark.django_db
def test_a_digest_whose_retries_ran_out_is_tried_again_within_its_week_only():
    advisor = UserFactory(advisor=True)
    digest = AdvisorDigest.objects.create(advisor=advisor, week_of=date(2027, 3, 1))
    down = smtplib.SMTPServerDisconnected("down")
    # Sunday 11:30 p.m. US Eastern: the sweeper's first try, ten minutes on, is still in the week.
    with time_machine.travel(datetime(2027, 3, 8, 4, 30, tzinfo=UTC), tick=False):
        mark_advisor_digest_failed(digest_id=digest.pk, error=down)
    digest.refresh_from_db()
    assert (digest.status, digest.failures, digest.last_error) == ("failed", 1, "SMTPServerDisconnected: down")
    assert digest.retry_at == datetime(2027, 3, 8, 4, 40, tzinfo=UTC)
    # Its second failure waits twenty minutes: past midnight Eastern, the week is over, no more tries.
    AdvisorDigest.objects.filter(pk=digest.pk).update(status="planned")
    with time_machine.travel(datetime(2027, 3, 8, 4, 45, tzinfo=UTC), tick=False):
        mark_advisor_digest_failed(digest_id=digest.pk, error=down)
    digest.refresh_from_db()
    assert (digest.status, digest.failures, digest.retry_at) == ("failed", 2, None)
