"""'Report outdated information': the review queue, accept (the claim updated, with history) or dismiss."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from programs.models import OutdatedReport, RequirementClaim
from programs.services.claims import record_claim, verify_claim
from programs.services.reports import accept_report, dismiss_report, report_outdated

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(make_program):
    return make_program("9999140C0", visa_j1="yes", min_step2ck="230")


def test_an_accepted_report_updates_the_claim_and_keeps_its_history(program, amira, ben):
    report = report_outdated(program=program, requirement="visa_j1", by=amira, message="The site says no J-1 now.",
                             proposed_value="no", source_url="https://example.org/new", observed_on=date(2026, 11, 20))
    assert list(OutdatedReport.objects.open()) == [report]

    accept_report(report=report, by=ben)

    claim = RequirementClaim.objects.get(program=program, requirement="visa_j1")
    assert (claim.value_bool, claim.source_url, claim.observed_on) == (False, "https://example.org/new", date(2026, 11, 20))
    assert claim.verified_by == ben and claim.entered_by == ben
    history = list(claim.history.all())
    assert [h.value_bool for h in history] == [False, True]  # newest first
    assert history[0].history_user == ben
    report.refresh_from_db()
    assert report.status == "accepted" and report.reviewed_by == ben
    assert not OutdatedReport.objects.open().exists()


def test_the_reviewer_may_correct_the_value_and_a_report_is_reviewed_once(program, amira, root):
    report = report_outdated(program=program, requirement="min_step2ck", by=amira, proposed_value="240")
    accept_report(report=report, by=root, value="245")
    assert RequirementClaim.objects.get(program=program, requirement="min_step2ck").value_int == 245
    with pytest.raises(ValidationError, match="already"):
        dismiss_report(report=report, by=root)


def test_a_dismissed_report_changes_no_claim(program, amira, ben):
    report = report_outdated(program=program, requirement="visa_j1", by=amira, proposed_value="no")
    dismiss_report(report=report, by=ben, note="The program's site still says yes.")
    claim = RequirementClaim.objects.get(program=program, requirement="visa_j1")
    assert claim.value_bool is True and claim.history.count() == 1
    assert OutdatedReport.objects.get().status == "dismissed"


def test_applicants_cannot_review_or_verify(program, amira, carla):
    report = report_outdated(program=program, requirement="visa_j1", by=amira, proposed_value="no")
    for service in (accept_report, dismiss_report):
        with pytest.raises(ValidationError, match="advisor or an admin"):
            service(report=report, by=carla)
    with pytest.raises(ValidationError):
        verify_claim(claim=program.claims.first(), by=carla)
    assert OutdatedReport.objects.get().status == "open"


@pytest.mark.parametrize("fields, key", [
    ({"proposed_value": "maybe"}, "proposed_value"),
    ({}, "message"),
    ({"requirement": "shoe_size", "proposed_value": "yes"}, "requirement"),
])
def test_a_bad_report_is_refused_with_its_field(program, amira, fields, key):
    arguments = {"requirement": "visa_j1"} | fields
    with pytest.raises(ValidationError) as error:
        report_outdated(program=program, by=amira, **arguments)
    assert key in error.value.message_dict
    assert not OutdatedReport.objects.exists()


def test_recording_the_same_claim_again_adds_no_history(program):
    claim = program.claims.get(requirement="visa_j1")
    _, changed = record_claim(program=program, requirement="visa_j1", value="yes", source_url=claim.source_url,
                              source_kind=claim.source_kind, observed_on=claim.observed_on)
    assert not changed and claim.history.count() == 1


def test_a_claim_older_than_the_setting_is_stale(program, root):
    from programs.models import DirectorySettings

    claim = program.claims.get(requirement="visa_j1")  # observed 2026-11-01; today 2026-11-21
    assert not claim.is_stale()
    settings_row = DirectorySettings.current()
    settings_row.stale_after_days = 10
    settings_row.save()
    assert claim.is_stale()
    assert set(RequirementClaim.objects.stale()) == set(program.claims.all())
