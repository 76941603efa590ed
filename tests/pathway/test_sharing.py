"""Sharing a pathway with advisors (issue 14): invitations, an admin's assignments the applicant
accepts, per-advisor choices (scores, visa details, private notes), ending access at once, the
advisor's third-person review of a student, comments, and the admin's bulk CSV assignment."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from milestones.models import Milestone, MilestoneComment
from milestones.services import record_exam_attempt, save_note
from pathway.models import AdvisorAssignment, AdvisorInvitation
from pathway.sharing import SharingError, bulk_assign, end_assignment, invite_advisor
from pathway.web.advisor.student import third_person

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

SCORE = 251
NOTE = "Ask Dr Rahman about a letter before July."


@pytest.fixture
def sharing(amira_profile, ben):
    return AdvisorAssignment.objects.get(advisor=ben, applicant=amira_profile.user)


@pytest.fixture
def student_data(amira_profile):
    """A Step 2 CK score and a private note on amira's pathway."""
    amira = amira_profile.user
    step2 = Milestone.objects.get(applicant=amira, template__key="usmle_step2ck")
    record_exam_attempt(milestone=step2, test_date=date(2026, 6, 1), score=SCORE, by=amira)
    save_note(milestone=Milestone.objects.get(pk=step2.pk), note=NOTE, by=amira)
    return amira


def student_urls(amira) -> list[str]:
    return [
        reverse("advisor:student_detail", args=[amira.pk]),
        reverse("advisor:student_timeline", args=[amira.pk]),
        reverse("advisor:student_milestone", args=[amira.pk, "usmle_step2ck"]),
        reverse("advisor:student_milestone", args=[amira.pk, "ecfmg_registration"]),
    ]


def milestone_page(client, amira, key="usmle_step2ck"):
    return client.get(reverse("advisor:student_milestone", args=[amira.pk, key]))


# --- Invitations and an admin's assignments --------------------------------------------------------


def test_an_invited_advisor_sees_nothing_until_accepting_then_sees_the_pathway(client, amira_profile):
    amira = amira_profile.user
    advisor = UserFactory(advisor=True, email="Nadia@School.example", name="Nadia Advisor")
    client.force_login(amira)
    response = client.post(reverse("applicant:sharing_invite"), {"email": "nadia@school.example"})
    assert response.status_code == 302
    invitation = AdvisorInvitation.objects.get(applicant=amira)
    assert (invitation.shares_scores, invitation.shares_visa, invitation.shares_notes) == (False, False, False)

    client.force_login(advisor)
    assert client.get(reverse("advisor:student_detail", args=[amira.pk])).status_code == 404
    page = client.get(reverse("advisor:invitations")).text
    assert "Amira Haddad" in page
    response = client.post(reverse("advisor:invitation_accept", args=[invitation.pk]))
    assert response.status_code == 302
    assert client.get(reverse("advisor:student_detail", args=[amira.pk])).status_code == 200
    assignment = AdvisorAssignment.objects.active().get(advisor=advisor, applicant=amira)
    assert assignment.origin == AdvisorAssignment.Origin.INVITATION
    # Accepted once: a second click finds no open invitation.
    assert client.post(reverse("advisor:invitation_accept", args=[invitation.pk])).status_code == 404


def test_the_invitation_form_keeps_the_choices_and_notes_are_off_by_default(client, amira_profile):
    client.force_login(amira_profile.user)
    page = client.get(reverse("applicant:sharing")).text
    boxes = dict(re.findall(r'<input type="checkbox" name="(shares_\w+)"([^>]*)>', page))
    assert "checked" in boxes["shares_scores"] and "checked" in boxes["shares_visa"]
    assert "checked" not in boxes["shares_notes"]
    client.post(
        reverse("applicant:sharing_invite"),
        {"email": "nadia@school.example", "shares_scores": "on", "shares_visa": "on"},
    )
    invitation = AdvisorInvitation.objects.get()
    assert (invitation.shares_scores, invitation.shares_visa, invitation.shares_notes) == (True, True, False)


def test_nobody_else_can_accept_an_invitation(client, amira_profile, dan):
    invitation = invite_advisor(applicant=amira_profile.user, email="nadia@school.example")
    client.force_login(dan)
    assert client.post(reverse("advisor:invitation_accept", args=[invitation.pk])).status_code == 404
    assert "Amira" not in client.get(reverse("advisor:invitations")).text
    assert not AdvisorAssignment.objects.filter(advisor=dan).exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [("not an email", "valid email"), ("amira@example.com", "your own address"), ("ben@example.com", "already")],
)
def test_a_bad_invitation_is_refused_with_a_reason_and_changes_nothing(client, amira_profile, ben, email, message):
    client.force_login(amira_profile.user)
    response = client.post(reverse("applicant:sharing_invite"), {"email": email})
    assert response.status_code == 422
    assert message in response.text
    assert not AdvisorInvitation.objects.exists()


def test_an_admins_assignment_waits_for_the_student(client, amira_profile):
    amira = amira_profile.user
    advisor = UserFactory(advisor=True, name="Assigned Advisor")
    pending = AdvisorAssignment.objects.create(advisor=advisor, applicant=amira)
    client.force_login(advisor)
    assert client.get(reverse("advisor:student_detail", args=[amira.pk])).status_code == 404
    assert "Amira" not in client.get(reverse("advisor:cohort")).text

    client.force_login(amira)
    assert "Waiting for you" in client.get(reverse("applicant:sharing")).text
    client.post(reverse("applicant:sharing_accept", args=[pending.pk]), {f"s{pending.pk}-shares_scores": "on"})
    pending.refresh_from_db()
    assert pending.accepted_at and pending.shares_scores and not pending.shares_visa and not pending.shares_notes
    client.force_login(advisor)
    assert client.get(reverse("advisor:student_detail", args=[amira.pk])).status_code == 200


def test_declining_an_admins_assignment_ends_it(client, amira_profile):
    amira = amira_profile.user
    advisor = UserFactory(advisor=True)
    pending = AdvisorAssignment.objects.create(advisor=advisor, applicant=amira)
    client.force_login(amira)
    client.post(reverse("applicant:sharing_end", args=[pending.pk]))
    pending.refresh_from_db()
    assert pending.ended_at is not None and pending.accepted_at is None
    with pytest.raises(SharingError):
        from pathway.sharing import accept_assignment

        accept_assignment(assignment=pending)


# --- Ending access --------------------------------------------------------------------------------


def test_ending_access_makes_every_url_of_the_student_404_on_the_next_request(client, amira_profile, ben, sharing):
    amira = amira_profile.user
    client.force_login(ben)
    for url in student_urls(amira):
        assert client.get(url).status_code == 200, url

    student = client.session  # ben's session stays as it is: no logout, no cache to expire
    other = client.__class__()
    other.force_login(amira)
    assert other.post(reverse("applicant:sharing_end", args=[sharing.pk])).status_code == 302

    assert client.session.session_key == student.session_key
    for url in student_urls(amira):
        assert client.get(url).status_code == 404, url
    comment = reverse("advisor:student_comment", args=[amira.pk, "usmle_step2ck"])
    assert client.post(comment, {"body": "Still there?"}).status_code == 404
    assert not MilestoneComment.objects.exists()
    assert "Amira" not in client.get(reverse("advisor:cohort")).text
    assert "No advisor can see your pathway" in other.get(reverse("applicant:settings")).text


@pytest.mark.parametrize("state", ["pending", "ended", "declined"])
def test_an_advisor_without_an_active_sharing_gets_404_on_every_url_of_the_student(client, amira_profile, state):
    from django.utils import timezone

    amira = amira_profile.user
    advisor = UserFactory(advisor=True)
    now = timezone.now()
    stamps = {"pending": {}, "ended": {"accepted_at": now, "ended_at": now}, "declined": {"ended_at": now}}[state]
    AdvisorAssignment.objects.create(advisor=advisor, applicant=amira, **stamps)
    client.force_login(advisor)
    for url in student_urls(amira):
        assert client.get(url).status_code == 404, url
    comment = reverse("advisor:student_comment", args=[amira.pk, "usmle_step2ck"])
    assert client.post(comment, {"body": "Hello"}).status_code == 404
    assert not MilestoneComment.objects.exists()


def test_a_student_cannot_end_or_change_anyone_elses_sharing(client, amira_profile, carla, sharing):
    client.force_login(carla)
    assert client.post(reverse("applicant:sharing_end", args=[sharing.pk])).status_code == 404
    assert client.post(reverse("applicant:sharing_update", args=[sharing.pk])).status_code == 404
    sharing.refresh_from_db()
    assert sharing.is_active and sharing.shares_scores


# --- What the advisor sees ------------------------------------------------------------------------


def test_by_default_the_advisor_sees_scores_and_visa_but_not_private_notes(client, student_data, ben, sharing):
    client.force_login(ben)
    page = milestone_page(client, student_data).text
    assert str(SCORE) in page
    assert NOTE not in page and "does not share their private notes" in page
    dashboard = client.get(reverse("advisor:student_detail", args=[student_data.pk])).text
    assert "J-1 (ECFMG-sponsored)" in dashboard and "J-1 visa (ECFMG sponsorship" in dashboard
    assert milestone_page(client, student_data, "visa_j1").status_code == 200


def test_what_is_not_shared_is_in_no_advisor_page(client, student_data, ben, sharing):
    client.force_login(student_data)
    client.post(reverse("applicant:sharing_update", args=[sharing.pk]), {})  # every box unticked
    sharing.refresh_from_db()
    assert not (sharing.shares_scores or sharing.shares_visa or sharing.shares_notes)

    client.force_login(ben)
    pages = [client.get(url).text for url in student_urls(student_data)]
    assert all(str(SCORE) not in page for page in pages)
    assert all(NOTE not in page for page in pages)
    for url, page in zip(student_urls(student_data), pages, strict=True):
        for word in ("J-1 (ECFMG-sponsored)", "J-1 visa (ECFMG sponsorship", "visa_j1"):
            at = page.find(word)
            assert at < 0, f"{url}: {page[max(at - 300, 0) : at + 100]}"
    assert milestone_page(client, student_data, "visa_j1").status_code == 404
    # The applicant still sees everything on her own pages.
    client.force_login(student_data)
    own = client.get(reverse("applicant:milestone_detail", args=["usmle_step2ck"])).text
    assert str(SCORE) in own and NOTE in own


def test_sharing_notes_shows_them(client, student_data, ben, sharing):
    AdvisorAssignment.objects.filter(pk=sharing.pk).update(shares_notes=True)
    client.force_login(ben)
    assert NOTE in milestone_page(client, student_data).text


def test_the_advisors_pages_speak_of_the_student_in_the_third_person(client, student_data, ben, sharing):
    client.force_login(ben)
    dashboard = client.get(reverse("advisor:student_detail", args=[student_data.pk])).text
    assert "Amira's pathway" in dashboard or "Amira Haddad's pathway" in dashboard
    assert "Your pathway" not in dashboard and "Change your profile" not in dashboard
    assert "Certify their rank order list" in dashboard and "Certify your rank order list" not in dashboard
    timeline = client.get(reverse("advisor:student_timeline", args=[student_data.pk])).text
    assert "pathway on a timeline" in timeline and "Your pathway on a timeline" not in timeline
    assert reverse("advisor:student_milestone", args=[student_data.pk, "usmle_step2ck"]) in timeline
    milestone = milestone_page(client, student_data).text
    assert "Your recorded attempts" not in milestone and "is advised to do" in milestone
    assert 'action="/milestones/' not in milestone  # no applicant form


def milestone_links(html: str) -> list[str]:
    return re.findall(r'href="([^"]*/milestones/[^"]*)"', html)


def test_every_milestone_link_on_the_advisors_pages_opens_the_advisors_copy(client, student_data, ben, sharing):
    """The pages build their milestone links once from a reversed prefix (not a {% url %} per row): on the
    advisor's copies every one must lead to /students/<pk>/milestones/<key>/, never to the student's own."""
    amira = student_data
    keys = set(Milestone.objects.of_applicant(amira).values_list("template__key", flat=True))
    # A step without a date: the timeline lists it apart from the chart, with its own link.
    Milestone.objects.filter(applicant=amira, template__key="ecfmg_registration").update(due_at=None)
    client.force_login(ben)
    pages = {
        "dashboard": reverse("advisor:student_detail", args=[amira.pk]),
        "timeline": reverse("advisor:student_timeline", args=[amira.pk]),
        # prerequisites, dependants and a deadline hanging from another step's
        "milestone": reverse("advisor:student_milestone", args=[amira.pk, "usmle_step3"]),
    }
    links = {name: milestone_links(client.get(url).text) for name, url in pages.items()}
    assert len(links["dashboard"]) > 20 and len(links["milestone"]) >= 2
    advisors = re.compile(rf"^/students/{amira.pk}/milestones/([\w-]+)/$")
    for name, hrefs in links.items():
        for href in hrefs:
            match = advisors.match(href)
            assert match and match[1] in keys, (name, href)
    undated = reverse("advisor:student_milestone", args=[amira.pk, "ecfmg_registration"])
    assert "No fixed date" in client.get(pages["timeline"]).text and undated in links["timeline"]


def test_third_person_rewrites_the_engines_words():
    assert third_person("Your next Step 2 CK attempt is the last one.") == "Their next Step 2 CK attempt is the last one."
    assert third_person("You have used every allowed attempt; talk to your advisor.") == (
        "They have used every allowed attempt; talk to their advisor."
    )


def test_the_advisors_student_pages_query_count_does_not_grow_with_comments(
    client, student_data, ben, sharing, django_assert_max_num_queries
):
    from milestones.services import add_comment

    milestone = Milestone.objects.get(applicant=student_data, template__key="usmle_step2ck")
    client.force_login(ben)
    add_comment(milestone=milestone, author=ben, body="First")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        milestone_page(client, student_data)
    for i in range(10):
        add_comment(milestone=milestone, author=ben, body=f"Comment {i}")
    with django_assert_max_num_queries(len(one)):
        milestone_page(client, student_data)


# --- Comments -------------------------------------------------------------------------------------


def test_an_advisors_comment_shows_on_the_students_milestone_and_enqueues_one_email(
    client, amira_profile, ben, sharing, django_capture_on_commit_callbacks, monkeypatch
):
    from milestones import tasks

    amira = amira_profile.user
    sent: list[list[int]] = []
    monkeypatch.setattr(tasks, "enqueue_comment_emails", sent.append)
    client.force_login(ben)
    url = reverse("advisor:student_comment", args=[amira.pk, "usmle_step2ck"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"body": "Book Step 2 CK before August, please."})
    comment = MilestoneComment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{comment.pk}")
    assert sent == [[comment.pk]]
    assert comment.author == ben and comment.author_name == "Ben Okafor"
    assert comment.status == "planned"

    client.force_login(amira)
    page = client.get(reverse("applicant:milestone_detail", args=["usmle_step2ck"])).text
    assert "Book Step 2 CK before August, please." in page and "Ben Okafor" in page


@pytest.mark.parametrize("body", ["", "   ", "x" * (MilestoneComment.BODY_MAX_LENGTH + 1)])
def test_an_empty_or_overlong_comment_is_refused_and_saves_nothing(client, amira_profile, ben, sharing, body):
    client.force_login(ben)
    url = reverse("advisor:student_comment", args=[amira_profile.user.pk, "usmle_step2ck"])
    response = client.post(url, {"body": body})
    assert response.status_code == 422
    assert not MilestoneComment.objects.exists()


def test_a_comment_email_is_delivered_once_and_a_second_delivery_is_a_no_op(amira_profile, ben, sharing, mailoutbox):
    from milestones.reminders import deliver_comment
    from milestones.services import add_comment

    milestone = Milestone.objects.get(applicant=amira_profile.user, template__key="usmle_step2ck")
    comment = add_comment(milestone=milestone, author=ben, body="Well done on the practice test.")
    assert deliver_comment(comment_id=comment.pk) == "sent"
    assert deliver_comment(comment_id=comment.pk) == "skipped"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["amira@example.com"]
    assert "Ben Okafor" in message.subject and "Well done on the practice test." in message.body
    assert message.extra_headers["Message-ID"] == f"<comment-{comment.pk}@pathway.localhost>"
    comment.refresh_from_db()
    assert comment.status == "sent" and comment.attempts == 1


def test_a_comment_email_to_a_closed_account_is_cancelled_not_sent(amira_profile, ben, sharing, mailoutbox):
    from milestones.reminders import deliver_comment
    from milestones.services import add_comment

    milestone = Milestone.objects.get(applicant=amira_profile.user, template__key="usmle_step2ck")
    comment = add_comment(milestone=milestone, author=ben, body="Well done on the practice test.")
    amira_profile.user.is_active = False
    amira_profile.user.save(update_fields=["is_active"])
    assert deliver_comment(comment_id=comment.pk) == "cancelled"
    assert mailoutbox == []
    comment.refresh_from_db()
    assert (comment.status, comment.last_error, comment.attempts) == ("cancelled", "account is inactive", 1)


def test_a_failed_comment_email_is_retried_by_the_sweeper(amira_profile, ben, sharing):
    import smtplib
    from datetime import timedelta

    from django.utils import timezone

    from milestones.reminders import mark_comment_failed, requeue_stuck
    from milestones.services import add_comment

    milestone = Milestone.objects.get(applicant=amira_profile.user, template__key="usmle_step2ck")
    comment = add_comment(milestone=milestone, author=ben, body="Hello")
    mark_comment_failed(comment_id=comment.pk, error=smtplib.SMTPServerDisconnected("down"))
    comment.refresh_from_db()
    assert comment.status == "failed" and comment.retry_at is not None
    swept = requeue_stuck(now=comment.retry_at + timedelta(seconds=1))
    assert comment.pk in swept.comment_ids
    comment.refresh_from_db()
    assert comment.status == "planned"
    # Stuck in "sending" (the worker died): back to the queue after the stuck delay.
    MilestoneComment.objects.filter(pk=comment.pk).update(status="sending", claimed_at=timezone.now())
    swept = requeue_stuck(now=timezone.now() + timedelta(hours=2))
    assert swept.stuck_comments == 1 and comment.pk in swept.comment_ids


# --- Bulk assignment from CSV ---------------------------------------------------------------------


@pytest.fixture
def people(db):
    advisors = [UserFactory(advisor=True, email=f"adv{i}@school.example") for i in range(2)]
    students = [UserFactory(email=f"stu{i}@school.example") for i in range(3)]
    return advisors, students


def test_a_good_csv_assigns_every_pair_pending_the_students_acceptance(people):
    text = "advisor email,student email\nadv0@school.example,stu0@school.example\nADV1@school.example, stu1@school.example\n"
    dry = bulk_assign(text=text)
    assert len(dry.to_assign) == 2 and not dry.errors and not AdvisorAssignment.objects.exists()
    done = bulk_assign(text=text, dry_run=False)
    assert done.created == 2
    assert AdvisorAssignment.objects.pending().count() == 2 and not AdvisorAssignment.objects.active().exists()
    again = bulk_assign(text=text, dry_run=False)
    assert again.created == 0 and len(again.already) == 2


def test_a_csv_with_a_bad_line_saves_nothing_and_names_every_bad_line(people):
    text = "\n".join(
        [
            "adv0@school.example,stu0@school.example",
            "nobody@school.example,stu1@school.example",
            "stu2@school.example,stu1@school.example",
            "adv0@school.example",
            "adv0@school.example,stu0@school.example",
        ]
    )
    result = bulk_assign(text=text, dry_run=False)
    assert [number for number, _ in result.errors] == [2, 3, 4, 5]
    assert "no active account" in result.errors[0][1] and "not an advisor" in result.errors[1][1]
    assert not AdvisorAssignment.objects.exists()


def test_the_admin_bulk_page_dry_runs_then_assigns(client, root, people):
    client.force_login(root)
    url = reverse("admin:pathway_advisorassignment_bulk")
    csv_file = b"adv0@school.example,stu0@school.example\nadv0@school.example,nobody@x.example\n"
    response = client.post(url, {"file": SimpleUploadedFile("a.csv", csv_file), "assign": "Assign"})
    assert response.status_code == 422 and "Line 2" in response.text
    assert not AdvisorAssignment.objects.exists()
    response = client.post(url, {"file": SimpleUploadedFile("a.csv", b"adv0@school.example,stu0@school.example\n")})
    assert response.status_code == 200 and "Dry run" in response.text
    assert not AdvisorAssignment.objects.exists()
    response = client.post(
        url, {"file": SimpleUploadedFile("a.csv", b"adv0@school.example,stu0@school.example\n"), "assign": "Assign"}
    )
    assert response.status_code == 302
    assert AdvisorAssignment.objects.pending().count() == 1
    bad = client.post(url, {"file": SimpleUploadedFile("a.csv", b"\xff\xfe\x00bad"), "assign": "Assign"})
    assert bad.status_code == 200 and "UTF-8" in bad.text


# --- The invitation email -------------------------------------------------------------------------


def test_inviting_enqueues_one_email_after_commit_and_not_again_for_the_same_address(
    client, amira_profile, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    from pathway import tasks
    from pathway.sharing import deliver_invitation

    sent: list[list[int]] = []
    monkeypatch.setattr(tasks, "enqueue_invitation_emails", sent.append)
    client.force_login(amira_profile.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("applicant:sharing_invite"), {"email": "nadia@school.example", "shares_scores": "on"})
    invitation = AdvisorInvitation.objects.get()
    assert sent == [[invitation.pk]]

    assert deliver_invitation(invitation_id=invitation.pk) == "sent"
    assert deliver_invitation(invitation_id=invitation.pk) == "skipped"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["nadia@school.example"] and "Amira Haddad" in message.subject
    assert "exam scores" in message.body and "private notes" not in message.body
    assert message.extra_headers["Message-ID"] == f"<invitation-{invitation.pk}@pathway.localhost>"

    with django_capture_on_commit_callbacks(execute=True):  # the same address again: new choices, no email
        client.post(reverse("applicant:sharing_invite"), {"email": "nadia@school.example"})
    assert sent == [[invitation.pk]] and AdvisorInvitation.objects.count() == 1


def test_a_withdrawn_invitations_email_is_cancelled(amira_profile, mailoutbox):
    from pathway.sharing import deliver_invitation, withdraw_invitation

    invitation = invite_advisor(applicant=amira_profile.user, email="nadia@school.example")
    withdraw_invitation(invitation=invitation)
    assert deliver_invitation(invitation_id=invitation.pk) == "cancelled"
    assert mailoutbox == []


def test_a_failed_invitation_email_is_retried_by_the_sweeper(amira_profile):
    import smtplib
    from datetime import timedelta

    from django.utils import timezone

    from pathway.sharing import mark_invitation_failed, requeue_invitation_emails

    invitation = invite_advisor(applicant=amira_profile.user, email="nadia@school.example")
    mark_invitation_failed(invitation_id=invitation.pk, error=smtplib.SMTPServerDisconnected("down"))
    invitation.refresh_from_db()
    assert invitation.status == "failed" and invitation.retry_at is not None
    assert requeue_invitation_emails(now=invitation.retry_at + timedelta(seconds=1)) == [invitation.pk]
    invitation.refresh_from_db()
    assert invitation.status == "planned"
    AdvisorInvitation.objects.filter(pk=invitation.pk).update(status="sending", claimed_at=timezone.now())
    assert requeue_invitation_emails(now=timezone.now() + timedelta(hours=2)) == [invitation.pk]


def test_the_students_data_export_holds_their_advisors_comments_escaped(client, amira_profile, ben, sharing):
    from milestones.services import add_comment

    milestone = Milestone.objects.get(applicant=amira_profile.user, template__key="usmle_step2ck")
    add_comment(milestone=milestone, author=ben, body="=HYPERLINK(\"http://evil.example\")")
    client.force_login(amira_profile.user)
    data = client.get(reverse("applicant:export_json")).json()
    step2 = next(m for m in data["milestones"] if m["key"] == "usmle_step2ck")
    assert [c["author_name"] for c in step2["advisor_comments"]] == ["Ben Okafor"]
    response = client.get(reverse("applicant:export_csv"))
    csv_text = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
    assert "Advisor comments" in csv_text and "'=HYPERLINK" in csv_text


# --- No stale page: the advisor's copies in the page cache (pathway/web/page_cache.py) ---------------


def _as(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.text


def test_the_advisors_cached_dashboard_follows_the_students_sharing_choices_at_once(client, student_data, ben, sharing):
    detail = reverse("advisor:student_detail", args=[student_data.pk])
    timeline = reverse("advisor:student_timeline", args=[student_data.pk])
    assert "J-1 (ECFMG-sponsored)" in _as(client, ben, detail)  # cached now
    assert "visa_j1" in _as(client, ben, timeline)
    _as(client, student_data, reverse("applicant:dashboard"))
    box = f"s{sharing.pk}-"  # the form's prefix
    client.post(reverse("applicant:sharing_update", args=[sharing.pk]), {f"{box}shares_notes": "on"})  # visa, scores off
    page = _as(client, ben, detail)
    assert "J-1 (ECFMG-sponsored)" not in page and "J-1 visa (ECFMG sponsorship" not in page
    assert str(SCORE) not in page
    assert "visa_j1" not in _as(client, ben, timeline)
    client.post(reverse("applicant:sharing_update", args=[sharing.pk]), {f"{box}shares_visa": "on"})  # as ben
    assert "J-1 (ECFMG-sponsored)" not in _as(client, ben, detail), "an advisor cannot change the choices"
    client.force_login(student_data)
    client.post(reverse("applicant:sharing_update", args=[sharing.pk]), {f"{box}shares_visa": "on"})
    assert "J-1 (ECFMG-sponsored)" in _as(client, ben, detail)
    assert "visa_j1" in _as(client, ben, timeline)


def test_third_person_never_reaches_the_students_cached_copy_nor_the_other_way(client, student_data, ben, sharing):
    own, advisor = reverse("applicant:dashboard"), reverse("advisor:student_detail", args=[student_data.pk])
    own_timeline = reverse("applicant:timeline")
    advisor_timeline = reverse("advisor:student_timeline", args=[student_data.pk])
    for first, second in ((ben, student_data), (student_data, ben)):
        from django.core.cache import cache

        cache.clear()
        for user in (first, second, first):
            pages = (_as(client, user, own), _as(client, user, own_timeline)) if user == student_data else None
            if pages:
                assert "Your pathway" in pages[0] and "Certify your rank order list" in pages[0]
                assert "Certify their rank order list" not in pages[0] and "pathway</h1>" not in pages[0].replace(
                    "Your pathway</h1>", ""
                )
                assert "Your pathway on a timeline" in pages[1] and "their rank order list" not in pages[1]
            else:
                page = _as(client, user, advisor)
                assert "Certify their rank order list" in page and "Your pathway" not in page
                assert "Change your profile" not in page
                timeline = _as(client, user, advisor_timeline)
                assert "Your pathway on a timeline" not in timeline and "their rank order list" in timeline


def test_a_comment_shows_on_the_next_page_of_the_student_and_of_the_advisor(client, student_data, ben, sharing):
    from milestones.versions import page_state

    url = reverse("applicant:milestone_detail", args=["usmle_step2ck"])
    _as(client, student_data, reverse("applicant:dashboard"))  # cached copies of both
    assert "Read this before booking" not in _as(client, student_data, url)
    _as(client, ben, reverse("advisor:student_detail", args=[student_data.pk]))
    assert "Read this before booking" not in milestone_page(client, student_data).text
    version = page_state(student_data.pk).applicant_version

    comment = reverse("advisor:student_comment", args=[student_data.pk, "usmle_step2ck"])
    assert client.post(comment, {"body": "Read this before booking."}).status_code == 302
    assert page_state(student_data.pk).applicant_version > version  # every cached copy is built afresh
    assert "Read this before booking." in milestone_page(client, student_data).text
    assert "Read this before booking." in _as(client, student_data, url)


def test_ending_access_is_a_404_at_once_even_with_every_page_cached(client, student_data, ben, sharing):
    for url in [*student_urls(student_data), reverse("advisor:cohort")]:
        _as(client, ben, url)
        _as(client, ben, url)  # served from the cache the second time
    assert end_assignment(assignment=sharing)
    client.force_login(ben)
    for url in student_urls(student_data):
        assert client.get(url).status_code == 404, url
    assert "Amira" not in client.get(reverse("advisor:cohort")).text


def test_a_student_who_has_not_set_up_their_pathway_yet(client, amira, ben):
    """Amira shares with Ben before onboarding: his copy of her dashboard says so, her timeline sends
    him back there, and neither is an error (no page state to cache yet)."""
    client.force_login(ben)

    page = client.get(reverse("advisor:student_detail", args=[amira.pk]))
    timeline = client.get(reverse("advisor:student_timeline", args=[amira.pk]))

    assert page.status_code == 200
    assert "This applicant has not set up their pathway yet." in page.content.decode()
    assert timeline.status_code == 302 and timeline.url == reverse("advisor:student_detail", args=[amira.pk])
