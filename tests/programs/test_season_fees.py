"""Fees from the season's data rows: AAMC's and SAEM's own examples, tiers restarting per specialty,
withdrawn-before-sending programs not counted, every line with its source and status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from milestones.models import MatchCycle

from .season_a import apply_to, bulk_programs, season_data  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season_data")]


def test_aamc_example_43_internal_medicine_and_7_diagnostic_radiology_cost_797():
    from programs.season.fees import application_fees

    assert application_fees(cycle_year=2026, service="ERAS", counts=[43, 7]) == 797
    # AAMC's other example on the same page: 30 Emergency Medicine programs (when EM was on ERAS) = $330.
    assert application_fees(cycle_year=2026, service="ERAS", counts=[30]) == 330


def test_saem_example_46_emergency_medicine_through_residencycas_cost_683():
    from programs.season.fees import application_fees

    assert application_fees(cycle_year=2026, service="ResidencyCAS", counts=[46]) == 683
    assert application_fees(cycle_year=2026, service="ResidencyCAS", counts=[1]) == 99
    assert application_fees(cycle_year=2026, service="ResidencyCAS", counts=[18]) == 99
    assert application_fees(cycle_year=2026, service="ResidencyCAS", counts=[19]) == 117


def test_a_season_without_fee_rows_is_refused_not_guessed():
    from programs.season.fees import application_fees

    with pytest.raises(ValidationError):
        application_fees(cycle_year=2031, service="ERAS", counts=[10])


def test_the_estimate_grows_with_the_list_per_service_and_specialty(amira_profile):
    from programs.season.fees import estimate

    cycle = MatchCycle.objects.get(year=2026)
    apply_to(amira_profile.user, cycle, bulk_programs(43, specialty="140"))
    apply_to(amira_profile.user, cycle, bulk_programs(7, specialty="420", prefix=3000))
    result = estimate(applicant=amira_profile.user, cycle=cycle)
    applications = [line for line in result.lines if line.label.startswith("ERAS applications")]
    assert sorted((line.count, line.amount_usd) for line in applications) == [(7, 77), (43, 720)]
    assert sum(line.amount_usd for line in applications) == 797
    transcript = next(line for line in result.lines if line.label == "USMLE transcript")
    assert transcript.amount_usd == 80 and transcript.projected  # the 2024 amount, 2026 unverified
    registration = next(line for line in result.lines if line.label == "NRMP registration")
    assert registration.amount_usd == 70 and registration.source_url
    assert result.total_usd == 797 + 80 + 70
    assert all(line.source_url for line in result.lines)


def test_em_through_residencycas_in_the_estimate(amira_profile):
    from programs.season.fees import estimate

    cycle = MatchCycle.objects.get(year=2026)
    apply_to(amira_profile.user, cycle, bulk_programs(46, specialty="110"))
    result = estimate(applicant=amira_profile.user, cycle=cycle)
    line = next(line for line in result.lines if line.service == "ResidencyCAS" and line.count)
    assert line.amount_usd == 683
    transcript = next(line for line in result.lines if line.label == "USMLE transcript")
    assert transcript.amount_usd is None and transcript in result.missing  # not found: shown, not invented


def test_withdrawn_before_applying_is_not_charged_but_withdrawn_after_is(amira_profile):
    from programs.season.applications import set_status
    from programs.season.fees import estimate

    user, cycle = amira_profile.user, MatchCycle.objects.get(year=2026)
    first, second, _third = apply_to(user, cycle, bulk_programs(3))
    set_status(application=first, status="withdrawn", by=user)
    set_status(application=second, status="applied", by=user)
    set_status(application=second, status="withdrawn", by=user)
    line = next(line for line in estimate(applicant=user, cycle=cycle).lines if line.count)
    assert line.count == 2 and line.amount_usd == 22


def test_payments_recorded_and_refused(amira_profile):
    from programs.season.fees import estimate, record_payment

    user, cycle = amira_profile.user, MatchCycle.objects.get(year=2026)
    record_payment(applicant=user, cycle=cycle, key="applications", service="ERAS",
                   amount_usd=Decimal("797.00"), paid_on=date(2025, 9, 3))
    with pytest.raises(ValidationError):
        record_payment(applicant=user, cycle=cycle, key="bribe", amount_usd=Decimal(1), paid_on=date(2025, 9, 3))
    with pytest.raises(ValidationError):
        record_payment(applicant=user, cycle=cycle, key="applications", amount_usd=Decimal(-1),
                       paid_on=date(2025, 9, 3))
    assert estimate(applicant=user, cycle=cycle).paid_usd == Decimal("797.00")
