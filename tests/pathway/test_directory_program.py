"""A program's page (requirements with sources, dates, stale and verified markers, the viewer's verdict,
each claim's history), reporting outdated information, the review queue (accept, dismiss), and an
applicant's own list of programs."""

from __future__ import annotations

import re
from datetime import date

import pytest

from programs.models import ApplicantProgram, OutdatedReport, Program, RequirementClaim
from programs.services.claims import record_claim

from ..factories import PlannedProfileFactory, UserFactory
from .directory_helpers import FRIENDLY_CODE, H1B_STEP3_CODE, demo_programs, program, season  # noqa: F401 (fixtures)

# Every test here reads the fictional demo programs, on a day in the 2027 season.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season", "demo_programs")]


def detail_url(p):
    return f"/programs/{p.pk}/"


@pytest.fixture
def h1b_applicant(pathway_data):
    """A non-US IMG who needs an H-1B and has no Step 3 (the issue's example)."""
    return PlannedProfileFactory(visa_route="H1B", graduation_date=date(2024, 6, 30)).user


def test_the_program_page_explains_why_an_h1b_applicant_without_step3_is_not_eligible(client, h1b_applicant):
    client.force_login(h1b_applicant)
    target = program(H1B_STEP3_CODE)
    html = client.get(detail_url(target)).content.decode()
    assert "Not eligible" in html
    assert "The program needs Step 3 passed before it ranks you; you have no Step 3 pass recorded." in html
    assert "You need the H-1B, and the program sponsors it." in html
    # Each check names the claim it used and the day it was observed, with its source.
    assert "observed 2 Nov 2026" in html and f'href="https://example.org/fictional-programs/{H1B_STEP3_CODE}"' in html
    # The J-1 row is not judged for an H-1B applicant, but the requirement is listed with its value.
    assert "J-1 visa sponsorship" in html


def test_unknown_requirements_show_as_unknown_never_as_a_pass(client, amira_profile):
    client.force_login(amira_profile.user)
    target = Program.objects.filter(claims__requirement="visa_j1", claims__state="unknown").first() or next(
        p for p in Program.objects.all() if not p.claims.filter(requirement="visa_j1").exists()
    )
    html = client.get(detail_url(target)).content.decode()
    assert "The directory does not know whether the program sponsors the J-1." in html
    assert '<span class="badge badge-done">Eligible</span>' not in html
    assert re.search(r'<span class="badge badge-(amber|red)">(Unknown|Not eligible)</span>', html)


def test_requirements_with_source_kind_dates_and_the_stale_and_verified_markers(client, amira_profile, root):
    target = program(FRIENDLY_CODE)
    # An old reading of one requirement (older than a season) and a verified one.
    claim = RequirementClaim.objects.get(program=target, requirement="min_step2ck")
    RequirementClaim.objects.filter(pk=claim.pk).update(observed_on=date(2024, 1, 10))
    record_claim(program=target, requirement="visa_h1b", value="yes", source_url="https://example.org/h1b-page",
                 source_kind="program_email", observed_on=date(2026, 11, 10), by=root, verified=True)
    client.force_login(amira_profile.user)
    html = client.get(detail_url(target)).content.decode()
    assert "Fictional demo data" in html and "An email from the program" in html
    assert 'href="https://example.org/h1b-page"' in html
    assert '<time datetime="2024-01-10">10 Jan 2024</time>' in html
    assert html.count('<span class="badge badge-projected">stale</span>') >= 1
    assert '<span class="badge badge-done">verified</span>' in html
    # The history of the changed claim: the demo's reading, then the verified email.
    assert "2 versions" in html and "by Root Admin (admin)" in html


def test_a_report_lands_in_the_queue_and_an_advisor_accepts_it(client, amira_profile, ben):
    target = program(FRIENDLY_CODE)
    client.force_login(amira_profile.user)
    response = client.post(f"/programs/{target.pk}/report/", {
        "requirement": "min_step2ck", "proposed_value": "235", "message": "The FAQ now says 235.",
        "source_url": "https://example.org/faq", "source_kind": "program_website", "observed_on": "2026-11-20",
    })
    assert response.status_code == 302
    report = OutdatedReport.objects.get()
    assert report.status == "open" and report.reported_by == amira_profile.user
    # The claim is unchanged until someone reviews the report.
    assert RequirementClaim.objects.get(program=target, requirement="min_step2ck").display_value == "No minimum"
    # Applicants never see the queue.
    assert client.get("/programs/reports/").status_code == 404

    client.force_login(ben)
    queue = client.get("/programs/reports/").content.decode()
    assert "The FAQ now says 235." in queue and "235" in queue and "by an applicant" in queue
    assert "Amira" not in queue  # an advisor does not learn who reads which program
    response = client.post(f"/programs/reports/{report.pk}/accept/", {f"r{report.pk}-note": "Checked the FAQ."})
    assert response.status_code == 302
    report.refresh_from_db()
    claim = RequirementClaim.objects.get(program=target, requirement="min_step2ck")
    assert report.status == "accepted" and report.reviewed_by == ben
    assert claim.value_int == 235 and claim.verified_by == ben and claim.source_url == "https://example.org/faq"
    assert claim.observed_on == date(2026, 11, 20)
    assert claim.history.count() == 2
    assert "No open reports" in client.get("/programs/reports/").content.decode()
    # Twice is refused: the report is no longer in the queue.
    assert client.post(f"/programs/reports/{report.pk}/accept/").status_code == 404


def test_an_admin_dismisses_a_report_and_a_bad_accept_changes_nothing(client, amira_profile, root):
    target = program(FRIENDLY_CODE)
    client.force_login(amira_profile.user)
    client.post(f"/programs/{target.pk}/report/", {"requirement": "visa_j1", "proposed_value": "no",
                                                 "source_kind": "list", "message": "A forum said so."})
    report = OutdatedReport.objects.get()
    client.force_login(root)
    assert "Amira Haddad" in client.get("/programs/reports/").content.decode()  # admins may know
    refused = client.post(f"/programs/reports/{report.pk}/accept/", {f"r{report.pk}-value": "maybe"})
    assert refused.status_code == 422 and "is not yes or no" in refused.content.decode()
    report.refresh_from_db()
    assert report.status == "open"
    assert RequirementClaim.objects.get(program=target, requirement="visa_j1").value_bool is True
    response = client.post(f"/programs/reports/{report.pk}/dismiss/", {f"d{report.pk}-note": "A forum is no source."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "dismissed" and report.review_note == "A forum is no source." and report.reviewed_by == root
    assert RequirementClaim.objects.get(program=target, requirement="visa_j1").value_bool is True


def test_a_report_the_form_refuses_is_a_422_and_saves_nothing(client, amira_profile):
    target = program(FRIENDLY_CODE)
    client.force_login(amira_profile.user)
    for data, reason in [
        ({}, "This field is required."),
        ({"requirement": "min_step2ck", "proposed_value": "lots", "source_kind": "list"}, "is not a whole number"),
        ({"requirement": "min_step2ck", "source_kind": "list"}, "Say what is outdated"),
        ({"requirement": "visa_j1", "proposed_value": "no", "source_kind": "list", "source_url": "not a url"}, "Enter a valid URL."),
        ({"requirement": "visa_j1", "proposed_value": "no", "source_kind": "list", "observed_on": "2030-01-01"}, "cannot be in the future"),
    ]:
        response = client.post(f"/programs/{target.pk}/report/", data)
        assert response.status_code == 422, data
        assert reason in response.content.decode(), (data, reason)
    assert not OutdatedReport.objects.exists()


def test_a_reviewer_needs_a_second_factor_first(client):
    advisor = UserFactory(advisor=True, totp=False)
    client.force_login(advisor)
    response = client.get("/programs/reports/")
    assert response.status_code == 302 and "/accounts/2fa/totp/activate/" in response["Location"]


def test_add_to_my_programs_and_remove(client, amira_profile):
    target = program(FRIENDLY_CODE)
    client.force_login(amira_profile.user)
    assert "Add to my programs" in client.get(detail_url(target)).content.decode()
    assert client.post(f"/programs/{target.pk}/add/").status_code == 302
    assert ApplicantProgram.objects.filter(applicant=amira_profile.user, program=target).exists()
    assert "Remove from my programs" in client.get(detail_url(target)).content.decode()
    mine = client.get("/programs/mine/").content.decode()
    assert target.name in mine and "Your eligibility: </span>Eligible" in mine
    client.post(f"/programs/{target.pk}/remove/", {"next": "mine"})
    assert not ApplicantProgram.objects.filter(applicant=amira_profile.user).exists()


def test_add_a_program_by_name_with_what_the_applicant_read(client, amira_profile):
    client.force_login(amira_profile.user)
    response = client.post("/programs/mine/", {
        "name": "Fictional Willowmere Family Medicine", "state": "VT", "claim_visa_j1": "yes",
        "claim_min_step2ck": "225", "source_url": "https://example.org/willowmere", "source_kind": "program_website",
    })
    assert response.status_code == 302
    added = Program.objects.get(name="Fictional Willowmere Family Medicine")
    assert not added.listed and added.added_by == amira_profile.user
    assert {c.requirement: c.display_value for c in added.claims.all()} == {"visa_j1": "Yes", "min_step2ck": "225"}
    assert response["Location"] == detail_url(added)
    # By code, a listed program: on the list; what they read goes to the review queue, not the claim.
    response = client.post("/programs/mine/", {"nrmp_code": FRIENDLY_CODE.lower(), "claim_visa_j1": "no", "source_kind": "list"})
    assert response.status_code == 302
    assert OutdatedReport.objects.filter(program=program(FRIENDLY_CODE), proposed_value="no").exists()
    assert program(FRIENDLY_CODE).claims.get(requirement="visa_j1").value_bool is True
    # Other applicants do not see a program someone added.
    client.force_login(PlannedProfileFactory().user)
    assert client.get(detail_url(added)).status_code == 404
    assert added.name not in client.get("/programs/", {"q": "Willowmere"}).content.decode()


def test_adding_a_program_refuses_bad_input_and_saves_nothing(client, amira_profile):
    client.force_login(amira_profile.user)
    before = Program.objects.count()
    for data, reason in [
        ({"source_kind": "list"}, "Give the program"),
        ({"nrmp_code": "12AB", "source_kind": "list"}, "NRMP"),
        ({"nrmp_code": "1234140C0", "source_kind": "list"}, "give the program&#x27;s name too"),
        ({"name": "Fictional X", "claim_max_attempts": "99", "source_kind": "list"}, "cannot be right"),
    ]:
        response = client.post("/programs/mine/", data)
        assert response.status_code == 422, data
        assert reason in response.content.decode(), (data, reason)
    assert Program.objects.count() == before and not ApplicantProgram.objects.exists()


def test_advisors_read_program_pages_but_keep_no_list(client, ben):
    client.force_login(ben)
    target = program(FRIENDLY_CODE)
    html = client.get(detail_url(target)).content.decode()
    assert "Eligibility is judged for each applicant" in html and "Add to my programs" not in html
    assert client.post(f"/programs/{target.pk}/add/").status_code == 404
    assert client.get("/programs/mine/").status_code == 404
