"""Issue 14's first "Done means", in headless Chromium as people would do it: a student invites a new
advisor; the advisor logs in (password, then an authenticator code), accepts, filters the cohort to the
students at risk, opens one and comments on a milestone; the student sees the comment and exactly one
email reaches a loopback SMTP server (a real Celery worker delivers it, as it delivered the invitation); the student ends the access,
and the advisor gets 404 on every URL of that student at once. axe-core checks every page on the way.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from milestones import tasks
from milestones.models import MilestoneComment
from pathway import tasks as pathway_tasks

from ..factories import PASSWORD, PlannedProfileFactory, UserFactory
from ..mfa import fresh_totp_code
from ..milestones import test_reminder_integration as reminder_it
from ..milestones.test_reminder_integration import SMTPServer, free_port, wait_for

# The real worker and broker of the reminders' integration tests.
broker, worker_env, workers = reminder_it.broker, reminder_it.worker_env, reminder_it.workers

pytestmark = [pytest.mark.services, pytest.mark.slow]

COMMENT = "Your Step 2 CK date decides your Match: book it before 15 December, please."
ADVISOR_EMAIL = "nadia.advisor@school.example"


@pytest.fixture
def cohort(pathway_data):
    """Two students: amira at risk (a non-US IMG with nothing done, the 2027 Match in a few months) and
    an on-track US MD in the 2028 Match, who already shares with the advisor."""
    from allauth.account.models import EmailAddress

    from pathway.advising.flags import refresh_risk_flags
    from pathway.models import AdvisorAssignment, StudentRiskFlag

    amira = PlannedProfileFactory(
        user=UserFactory(email="amira@example.com", name="Amira Haddad"), specialties=["Internal Medicine"]
    ).user
    omar = PlannedProfileFactory(
        user=UserFactory(email="omar@example.com", name="Omar On-Track"),
        applicant_type="US_MD",
        graduation_date="2028-05-15",
        year=2028,
    ).user
    advisor = UserFactory(advisor=True, email=ADVISOR_EMAIL, name="Nadia Advisor")  # an authenticator app, no login yet
    EmailAddress.objects.create(user=advisor, email=advisor.email, verified=True, primary=True)
    EmailAddress.objects.create(user=amira, email=amira.email, verified=True, primary=True)
    AdvisorAssignment.objects.create(advisor=advisor, applicant=omar, accepted_at=advisor.date_joined)
    _interview_in_new_york(amira)
    refresh_risk_flags()
    assert StudentRiskFlag.objects.active().filter(applicant=amira).exists()
    assert not StudentRiskFlag.objects.active().filter(applicant=omar).exists()
    return amira, omar, advisor


def _interview_in_new_york(student) -> None:
    """One program on the student's season list, with an interview at 9:00 in New York a week ahead."""
    from programs.loader import load_specialties
    from programs.models import Program, Specialty
    from programs.season.applications import add_application
    from programs.season.interviews import save_interview

    load_specialties()
    program = Program.objects.create(
        nrmp_code="9999140C0", program_type="C", track="0", name="Fictional Hudson Medicine",
        specialty=Specialty.objects.get(acgme_code="140"), state="NY", origin="admin",
    )  # fmt: skip
    application, _ = add_application(applicant=student, program=program, cycle=student.profile.target_cycle)
    day = timezone.localdate() + timedelta(days=7)
    save_interview(application=application, by=student, starts_local=datetime(day.year, day.month, day.day, 9))


def log_in_with_password(page, email: str, *, totp_secret: str | None = None):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if totp_secret:
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
        page.get_by_role("textbox").fill(fresh_totp_code(totp_secret))
        page.get_by_role("button", name="Sign In").click()


def test_an_advisor_comments_and_loses_access_when_the_student_ends_it(
    new_context, live_server, cohort, broker, workers, monkeypatch, screenshot, axe
):
    from ..factories import TOTP_SECRET

    amira, omar, advisor = cohort
    _, app, _client = broker
    monkeypatch.setattr(
        tasks,
        "enqueue_comment_emails",
        lambda ids: [app.send_task("milestones.tasks.send_comment_email", args=[pk], queue="default") for pk in ids],
    )
    monkeypatch.setattr(
        pathway_tasks,
        "enqueue_invitation_emails",
        lambda ids: [app.send_task("pathway.tasks.send_invitation_email", args=[pk], queue="default") for pk in ids],
    )

    with SMTPServer(free_port()) as smtp:
        worker = workers(smtp.port)

        # The student invites the advisor by email, keeping the default choices (notes not shared).
        student = new_context().new_page()
        log_in_with_password(student, amira.email)
        student.goto("/settings/")
        student.get_by_role("link", name=re.compile("Invite an advisor")).click()
        expect(student.get_by_role("heading", level=1)).to_have_text("Sharing with advisors")
        expect(student.get_by_label("My private notes")).not_to_be_checked()
        axe.check(student, what="sharing page")
        student.get_by_label("Advisor's email address").fill(ADVISOR_EMAIL)
        student.get_by_role("button", name="Send invitation").click()
        expect(student.get_by_role("status")).to_contain_text(f"Invitation sent to {ADVISOR_EMAIL}")
        screenshot(student, "1-invited", full_page=True)
        wait_for(lambda: smtp.recorder.count() >= 1, "the invitation email", worker.tail)
        assert [rcpt for _, rcpt in smtp.recorder.received] == [ADVISOR_EMAIL]

        # The new advisor logs in (password, then a code from the authenticator app) and accepts.
        page = new_context().new_page()
        log_in_with_password(page, ADVISOR_EMAIL, totp_secret=TOTP_SECRET)
        expect(page.get_by_role("heading", level=1)).to_have_text("My students")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Invitations").click()
        expect(page.get_by_text("Amira Haddad", exact=True)).to_be_visible()
        axe.check(page, what="invitations")
        page.get_by_role("button", name="Accept Amira Haddad's invitation").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Amira Haddad's pathway")

        # The cohort, filtered to the students at risk: amira, not omar.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My students").click()
        table = page.locator("#cohort-table")
        expect(table.get_by_role("link", name="Omar On-Track")).to_be_visible()
        page.get_by_label("Risk").select_option(label="Any risk flag")
        page.get_by_role("button", name="Apply filters").click()
        expect(table.get_by_role("link", name="Omar On-Track")).to_have_count(0)
        expect(table.get_by_role("link", name="Amira Haddad")).to_be_visible()
        axe.check(page, what="cohort filtered to risk")
        screenshot(page, "2-cohort-at-risk", full_page=True)

        # Her pathway, in the third person, then a milestone, and a comment on it.
        table.get_by_role("link", name="Amira Haddad").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Amira Haddad's pathway")
        expect(page.get_by_text("Your pathway")).to_have_count(0)
        axe.check(page, what="student's dashboard")
        student_url = page.url
        page.get_by_role("link", name="See the whole pathway on the timeline").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Amira Haddad's pathway on a timeline")
        axe.check(page, what="student's timeline")
        timeline_url = page.url
        # Her season list: the interview at the program's wall clock and hers, never a bare UTC time.
        page.goto(student_url)
        page.get_by_role("link", name="See Amira Haddad's programs this season").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Amira Haddad's programs")
        expect(page.get_by_role("row", name=re.compile("Fictional Hudson Medicine"))).to_contain_text(
            "09:00 (America/New_York;"
        )
        axe.check(page, what="student's programs")
        screenshot(page, "2b-student-programs", full_page=True)
        page.goto(student_url)
        page.get_by_role("table").get_by_role("link", name="USMLE Step 2 CK").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("USMLE Step 2 CK")
        milestone_url = page.url
        page.get_by_label("Your comment").fill(COMMENT)
        axe.check(page, what="student's milestone with the comment form")
        page.get_by_role("button", name="Post comment").click()
        expect(page.get_by_role("status")).to_contain_text("Comment posted")
        expect(page.locator(".comment-body")).to_contain_text(COMMENT)
        screenshot(page, "3-commented", full_page=True)

        # The student sees it on that milestone, and gets exactly one email about it.
        comment = MilestoneComment.objects.get()
        wait_for(lambda: MilestoneComment.objects.get(pk=comment.pk).status == "sent", "the email", worker.tail)
        student.goto("/milestones/usmle_step2ck/")
        expect(student.locator(f"#comment-{comment.pk}")).to_contain_text(COMMENT)
        expect(student.locator(f"#comment-{comment.pk}")).to_contain_text("Nadia Advisor")
        axe.check(student, what="the student's milestone with the comment")
        screenshot(student, "4-student-sees-comment", full_page=True)
        to_amira = [(mid, rcpt) for mid, rcpt in smtp.recorder.received if rcpt == amira.email]
        assert Counter(to_amira) == Counter({(f"<comment-{comment.pk}@pathway.localhost>", amira.email): 1})
        message = smtp.recorder.messages[-1]
        assert "Nadia Advisor" in message["Subject"]
        assert COMMENT in message.get_body(("plain",)).get_content()

        # The advisor has the milestone open with a second comment typed when the student ends the access.
        page.get_by_label("Your comment").fill("One more thing.")
        student.goto("/settings/sharing/")
        student.get_by_role("button", name="End access for Nadia Advisor").click()
        expect(student.get_by_role("status")).to_contain_text("Nadia Advisor can no longer see your pathway")
        axe.check(student, what="sharing page after ending access")

        response_statuses = []
        page.on("response", lambda r: response_statuses.append(r.status) if r.request.method == "POST" else None)
        page.get_by_role("button", name="Post comment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        assert response_statuses == [404]
        for url in (student_url, timeline_url, milestone_url, f"{student_url}milestones/ecfmg_registration/"):
            response = page.goto(url)
            assert response.status == 404, url
            expect(page.get_by_text("Amira")).to_have_count(0)
        axe.check(page, what="not found")
        page.goto("/advisor/")
        expect(page.locator("#cohort-table").get_by_role("link", name="Amira Haddad")).to_have_count(0)
        screenshot(page, "5-gone", full_page=True)
        assert MilestoneComment.objects.count() == 1
        assert len(smtp.recorder.received) == 2  # the invitation to the advisor, the comment to amira
        worker.stop()

    axe.assert_clean()
