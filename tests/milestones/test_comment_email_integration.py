"""The email about an advisor's comment, end to end: a real `celery worker` on real Redis and PostgreSQL
delivering to a real SMTP server (aiosmtpd) on loopback, with the reminders' never-lost, never-twice
machinery (issue 14). Counted by Message-ID at the SMTP server."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from milestones import tasks
from milestones.models import ApplicantProfile, MatchCycle, Milestone, MilestoneComment, MilestoneTemplate
from pathway.models import AdvisorAssignment, AdvisorInvitation, User

from . import test_reminder_integration as reminder_it
from .test_reminder_integration import SMTPServer, free_port, queue_drained, wait_for

# The real worker, broker and SMTP fixtures of the reminders' integration tests.
broker, worker_env, workers = reminder_it.broker, reminder_it.worker_env, reminder_it.workers

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def publish_comments(app, ids):
    for pk in ids:
        app.send_task("milestones.tasks.send_comment_email", args=[pk], queue="default")


@pytest.fixture
def student_milestone():
    cycle, _ = MatchCycle.objects.get_or_create(year=2027, defaults={"name": "2027 Match"})
    template = MilestoneTemplate.objects.create(key="usmle_step2ck", title="USMLE Step 2 CK", phase="exams", guidance=".")
    student = User.objects.create_user("student@example.com", name="Sara Student")
    ApplicantProfile.objects.create(
        user=student, applicant_type="NON_US_IMG", graduation_date="2025-06-30", target_cycle=cycle,
        time_zone="UTC", calendar_token="token-sara",
    )  # fmt: skip
    advisor = User.objects.create_user("advisor@example.com", name="Ada Advisor", role="advisor")
    AdvisorAssignment.objects.create(advisor=advisor, applicant=student, accepted_at=timezone.now())
    return Milestone.objects.create(applicant=student, template=template), advisor


def test_a_comment_published_twice_reaches_the_student_exactly_once(broker, workers, monkeypatch, student_milestone):
    _, app, client = broker
    milestone, advisor = student_milestone
    published: list[int] = []

    def publish_twice(ids):  # the broker may deliver a message twice; the claim makes it harmless
        published.extend(ids)
        publish_comments(app, [*ids, *ids])

    monkeypatch.setattr(tasks, "enqueue_comment_emails", publish_twice)
    with SMTPServer(free_port()) as smtp:
        worker = workers(smtp.port)
        comment = tasks.comment_and_enqueue(milestone=milestone, author=advisor, body="Book the exam this week.")
        assert published == [comment.pk]  # enqueued once, after commit
        wait_for(lambda: smtp.recorder.count() >= 1 and queue_drained(client), "the email", worker.tail)
        wait_for(
            lambda: MilestoneComment.objects.get(pk=comment.pk).status == "sent", "the row marked sent", worker.tail
        )
        worker.stop()
    assert Counter(smtp.recorder.received) == Counter({(f"<comment-{comment.pk}@pathway.localhost>", "student@example.com"): 1})
    message = smtp.recorder.messages[0]
    assert "Ada Advisor" in message["Subject"]
    assert "Book the exam this week." in message.get_body(("plain",)).get_content()


def test_a_comment_email_waits_out_an_smtp_outage_and_arrives_once(broker, workers, monkeypatch, student_milestone):
    """Nobody listens on the SMTP port at first: the send task retries, then the server comes up."""
    _, app, client = broker
    milestone, advisor = student_milestone
    monkeypatch.setattr(tasks, "enqueue_comment_emails", lambda ids: publish_comments(app, ids))
    port = free_port()
    worker = workers(port)
    comment = tasks.comment_and_enqueue(milestone=milestone, author=advisor, body="Hello")
    wait_for(
        lambda: MilestoneComment.objects.get(pk=comment.pk).attempts >= 2, "a failed attempt or two", worker.tail
    )
    with SMTPServer(port) as smtp:
        wait_for(
            lambda: MilestoneComment.objects.get(pk=comment.pk).status == "sent", "the email after the outage", worker.tail
        )
        worker.stop()
    assert [mid for mid, _ in smtp.recorder.received] == [f"<comment-{comment.pk}@pathway.localhost>"]


def test_an_invitation_email_published_twice_reaches_the_advisor_exactly_once(broker, workers, monkeypatch):
    from pathway import tasks as pathway_tasks

    _, app, client = broker
    cycle, _ = MatchCycle.objects.get_or_create(year=2027, defaults={"name": "2027 Match"})
    student = User.objects.create_user("student@example.com", name="Sara Student")
    ApplicantProfile.objects.create(
        user=student, applicant_type="NON_US_IMG", graduation_date="2025-06-30", target_cycle=cycle,
        time_zone="UTC", calendar_token="token-sara",
    )  # fmt: skip
    monkeypatch.setattr(
        pathway_tasks,
        "enqueue_invitation_emails",
        lambda ids: [
            app.send_task("pathway.tasks.send_invitation_email", args=[pk], queue="default") for pk in [*ids, *ids]
        ],
    )
    with SMTPServer(free_port()) as smtp:
        worker = workers(smtp.port)
        invitation = pathway_tasks.invite_and_enqueue(applicant=student, email="nadia@school.example")
        wait_for(lambda: smtp.recorder.count() >= 1 and queue_drained(client), "the email", worker.tail)
        wait_for(lambda: AdvisorInvitation.objects.get(pk=invitation.pk).status == "sent", "marked sent", worker.tail)
        worker.stop()
    assert Counter(smtp.recorder.received) == Counter(
        {(f"<invitation-{invitation.pk}@pathway.localhost>", "nadia@school.example"): 1}
    )
