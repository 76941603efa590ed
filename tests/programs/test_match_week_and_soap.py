"""Match Week and SOAP: the Monday's status from the NRMP's release on, the SOAP list at and past its 45
applications (data), offers only in the cycle's rounds, accepting one is binding and closes the Match
milestones, and a Main Match match moves the pathway on to the contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from programs.season import match, soap
from programs.season.match_models import MatchOutcome, SoapOffer
from programs.season.models import SeasonLimit

from .season_b import (
    AFTER_SOAP,
    BEFORE_STATUS,
    MONDAY,
    ROUND_1,
    ROUND_2,
    make_applications,
    make_programs,
    mark_done,
    milestone_status,
    season_rules,  # noqa: F401
)

MATCH_DAY = datetime(2027, 3, 19, 17, 30, tzinfo=UTC)  # Friday 12:30 ET


@pytest.fixture
def amira(applicant, season_rules):  # noqa: F811
    user = applicant().user
    mark_done(user, "nrmp_registration", "rank_order_list")
    return user


def record(user, status="unmatched", **kwargs):
    return match.record_match_status(applicant=user, cycle=user.profile.target_cycle, status=status, by=user, **kwargs)


def apply(user, program):
    return soap.add_soap_application(applicant=user, cycle=user.profile.target_cycle, program_id=program.pk, by=user)


def test_status_is_recorded_from_the_nrmp_release_on(amira):
    with time_machine.travel(BEFORE_STATUS, tick=False), pytest.raises(ValidationError, match="Mon 15 Mar 2027, 10:00 AM ET"):
        record(amira)
    assert not MatchOutcome.objects.exists()
    with time_machine.travel(MONDAY, tick=False):
        outcome = record(amira)
        assert outcome.in_soap
        assert milestone_status(amira, "match_week") == "done"
        assert milestone_status(amira, "soap") == "in_progress"
        # Corrected before anything hangs on it: matched after all.
        record(amira, "matched")
        assert milestone_status(amira, "soap") == "waived"


def test_a_status_needs_a_certified_list(applicant, season_rules):  # noqa: F811
    user = applicant().user
    with time_machine.travel(MONDAY, tick=False), pytest.raises(ValidationError, match="Complete these first"):
        record(user)
    assert not MatchOutcome.objects.exists()


def test_forty_five_soap_applications_fit_and_the_next_is_refused(amira):
    programs = make_programs(46)
    with time_machine.travel(MONDAY, tick=False):
        record(amira)
        for program in programs[:45]:
            apply(amira, program)
        with pytest.raises(ValidationError, match="at most 45 applications") as refused:
            apply(amira, programs[45])
        assert "you have sent 45" in str(refused.value)
        with pytest.raises(ValidationError, match="already applied"):
            apply(amira, programs[0])
    outcome = MatchOutcome.objects.get()
    assert outcome.soap_applications.count() == 45


def test_the_soap_limit_is_data(amira):
    SeasonLimit.objects.filter(key="soap_applications").update(value=1)
    a, b = make_programs(2)
    with time_machine.travel(MONDAY, tick=False):
        record(amira)
        apply(amira, a)
        with pytest.raises(ValidationError, match="at most 1 applications"):
            apply(amira, b)


def test_matched_applicants_and_late_comers_get_no_soap(amira):
    (program,) = make_programs(1)
    with time_machine.travel(MONDAY, tick=False):
        record(amira, "matched")
        with pytest.raises(ValidationError, match="only for unmatched"):
            apply(amira, program)
        record(amira, "unmatched", soap_eligible=False)
        assert milestone_status(amira, "soap") == "waived"
        with pytest.raises(ValidationError, match="SOAP-eligible"):
            apply(amira, program)
        record(amira, "unmatched")
    with time_machine.travel(AFTER_SOAP, tick=False), pytest.raises(ValidationError, match="SOAP ended"):
        apply(amira, program)


def test_offers_come_in_rounds_and_accepting_one_records_the_match(amira):
    cycle = amira.profile.target_cycle
    first, second = make_programs(2)
    with time_machine.travel(MONDAY, tick=False):
        record(amira)
        a, b = apply(amira, first), apply(amira, second)
        with pytest.raises(ValidationError, match="next round opens on Thu 18 Mar 2027, 9:00 AM ET"):
            soap.record_offer(applicant=amira, cycle=cycle, application_id=a.pk, by=amira)
    with time_machine.travel(ROUND_1, tick=False):
        offer_a = soap.record_offer(applicant=amira, cycle=cycle, application_id=a.pk, by=amira)
        offer_b = soap.record_offer(applicant=amira, cycle=cycle, application_id=b.pk, by=amira)
        assert offer_a.round == 1
        accepted = soap.answer_offer(applicant=amira, cycle=cycle, offer_id=offer_a.pk, accept=True, by=amira)
        assert accepted.status == "accepted"
        # A double submit of the acceptance changes nothing; the other offer has lapsed: the first is binding.
        soap.answer_offer(applicant=amira, cycle=cycle, offer_id=offer_a.pk, accept=True, by=amira)
        assert SoapOffer.objects.get(pk=offer_b.pk).status == "lapsed"
        with pytest.raises(ValidationError, match="lapsed"):
            soap.answer_offer(applicant=amira, cycle=cycle, offer_id=offer_b.pk, accept=True, by=amira)
    outcome = MatchOutcome.objects.get()
    assert (outcome.matched_program, outcome.matched_via) == (first, "soap")
    assert [milestone_status(amira, key) for key in ("match_week", "soap", "match_result", "contract_onboarding")] == [
        "done", "done", "done", "in_progress"
    ]
    assert SoapOffer.objects.filter(status="accepted").count() == 1


def test_an_offer_lapses_when_its_round_closes(amira):
    cycle = amira.profile.target_cycle
    (program,) = make_programs(1)
    with time_machine.travel(MONDAY, tick=False):
        record(amira)
        application = apply(amira, program)
    with time_machine.travel(ROUND_1, tick=False):
        offer = soap.record_offer(applicant=amira, cycle=cycle, application_id=application.pk, by=amira)
    with time_machine.travel(ROUND_2, tick=False):
        with pytest.raises(ValidationError, match="lapsed at Thu 18 Mar 2027, 12:00 PM ET"):
            soap.answer_offer(applicant=amira, cycle=cycle, offer_id=offer.pk, accept=True, by=amira)
        assert soap.record_offer(applicant=amira, cycle=cycle, application_id=application.pk, by=amira).round == 2
    assert MatchOutcome.objects.get().matched_program is None


def test_a_main_match_match_is_placed_on_match_day_and_moves_the_pathway_on(amira):
    cycle = amira.profile.target_cycle
    (application,) = make_applications(amira, cycle, make_programs(1), status="ranked")
    with time_machine.travel(MONDAY, tick=False):
        record(amira, "matched")
        with pytest.raises(ValidationError, match="reveals where you matched on Fri 19 Mar 2027, 12:00 PM ET"):
            match.record_matched_program(applicant=amira, cycle=cycle, application_id=application.pk, by=amira)
    with time_machine.travel(MATCH_DAY, tick=False):
        match.record_matched_program(applicant=amira, cycle=cycle, application_id=application.pk, by=amira)
    application.refresh_from_db()
    assert application.status == "matched"
    assert milestone_status(amira, "match_result") == "done"
    assert milestone_status(amira, "contract_onboarding") == "in_progress"
    assert milestone_status(amira, "soap") == "waived"


def test_a_partial_match_is_completed_in_soap(amira):
    cycle = amira.profile.target_cycle
    (application,) = make_applications(amira, cycle, make_programs(1, specialty="420", letter="A"), status="ranked")
    with time_machine.travel(MONDAY, tick=False):
        record(amira, "partially_matched")
        assert milestone_status(amira, "soap") == "in_progress"
    with time_machine.travel(MATCH_DAY, tick=False), pytest.raises(ValidationError, match="completed in SOAP"):
        match.record_matched_program(applicant=amira, cycle=cycle, application_id=application.pk, by=amira)
