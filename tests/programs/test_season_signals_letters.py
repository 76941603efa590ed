"""Signals within the season's allowance (at and past the limit, gold and silver apart, single tier) with
warnings for programs the applicant fails or cannot be judged against; letters at most 4 per program (at
and past), the shortfall warning, and the letters milestone following the letters."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from milestones.models import MatchCycle, Milestone

from .season_a import apply_to, bulk_programs, season_data  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season_data")]


@pytest.fixture
def cycle(pathway_data):
    return MatchCycle.objects.get(year=2027)


def test_internal_medicine_gold_signals_at_and_past_the_limit(amira_profile, cycle):
    from programs.season.signals import set_signal

    user = amira_profile.user
    apps = apply_to(user, cycle, bulk_programs(20))  # 2027 IM: 3 gold + 12 silver (projected rows)
    for application in apps[:3]:
        set_signal(application=application, signal="gold", by=user)
    with pytest.raises(ValidationError, match="All 3 gold"):
        set_signal(application=apps[3], signal="gold", by=user)
    for application in apps[3:15]:
        set_signal(application=application, signal="silver", by=user)
    with pytest.raises(ValidationError, match="All 15"):
        set_signal(application=apps[15], signal="silver", by=user)
    apps[15].refresh_from_db()
    assert apps[15].signal == ""
    # Freeing one makes room again: moving a gold to a silver is refused, clearing then giving works.
    set_signal(application=apps[0], signal="", by=user)
    set_signal(application=apps[15], signal="gold", by=user)


def test_single_tier_specialty_refuses_gold_and_counts_the_total(amira_profile, cycle):
    from programs.season.signals import set_signal

    user = amira_profile.user
    apps = apply_to(user, cycle, bulk_programs(6, specialty="120"))  # Family Medicine: 5
    with pytest.raises(ValidationError, match="single tier"):
        set_signal(application=apps[0], signal="gold", by=user)
    for application in apps[:5]:
        set_signal(application=application, signal="signal", by=user)
    with pytest.raises(ValidationError, match="All 5"):
        set_signal(application=apps[5], signal="signal", by=user)


def test_no_allowance_recorded_is_refused_not_guessed(amira_profile, cycle):
    from programs.season.signals import set_signal

    user = amira_profile.user
    (em,) = apply_to(user, cycle, bulk_programs(1, specialty="110"))  # EM through ResidencyCAS: none recorded
    with pytest.raises(ValidationError, match="no signals recorded"):
        set_signal(application=em, signal="signal", by=user)


def test_signal_warnings_for_failed_and_unknown_requirements(amira_profile, cycle, make_program):
    from programs.season.signals import set_signal

    user = amira_profile.user  # amira needs a J-1
    no_j1 = make_program("9999140C1", visa_j1="no")
    unknown = make_program("9999140C2")
    fine = make_program("9999140C3", visa_j1="yes", max_years_since_graduation="none", max_attempts="none",
                        usce_months_required="none", ecfmg_certificate_by="none", min_step2ck="none",
                        step3_before_ranking="no")
    a, b, c = apply_to(user, cycle, [no_j1, unknown, fine])
    _, warnings = set_signal(application=a, signal="gold", by=user)
    assert warnings and "may not be eligible" in warnings[0]
    _, warnings = set_signal(application=b, signal="gold", by=user)
    assert warnings and "unknown" in warnings[0]
    _, warnings = set_signal(application=c, signal="silver", by=user)
    assert warnings == []


def test_letters_at_and_past_four_per_program(amira_profile, cycle):
    from programs.season.letters import assign_letter, save_letter
    from programs.season.models import Letter

    user = amira_profile.user
    (application,) = apply_to(user, cycle, bulk_programs(1))
    letters = [save_letter(letter=Letter(applicant=user, cycle=cycle, writer=f"Dr {n}", status="uploaded"))
               for n in range(5)]
    for letter in letters[:4]:
        assign_letter(letter=letter, application=application)
    with pytest.raises(ValidationError, match="at most 4"):
        assign_letter(letter=letters[4], application=application)
    assert application.letter_assignments.count() == 4
    assign_letter(letter=letters[0], application=application)  # the same pair again: no-op, not a fifth
    assert application.letter_assignments.count() == 4


def test_shortfall_warning_and_the_letters_milestone_follows(amira_profile, cycle):
    from programs.season.applications import set_status, update_application
    from programs.season.letters import assign_letter, save_letter, shortfalls
    from programs.season.models import Letter

    user = amira_profile.user
    milestone = Milestone.objects.get(applicant=user, template__key="letters_of_recommendation")
    assert milestone.status == "not_started"
    (application,) = apply_to(user, cycle, bulk_programs(1), status="applied")
    update_application(application=application, notes="", letters_required=2)
    first = save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr One"))
    milestone.refresh_from_db()
    assert milestone.status == "in_progress"
    first.status = "uploaded"
    save_letter(letter=first)
    assign_letter(letter=first, application=application)
    assert [(s.required, s.assigned) for s in shortfalls(applicant=user, cycle=cycle)] == [(2, 1)]
    milestone.refresh_from_db()
    assert milestone.status == "in_progress"  # a program still short of letters
    second = save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Two", status="uploaded"))
    assign_letter(letter=second, application=application)
    assert shortfalls(applicant=user, cycle=cycle) == []
    milestone.refresh_from_db()
    assert milestone.status == "done"
    set_status(application=application, status="withdrawn", by=user)
    third = save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Three", status="asked"))
    milestone.refresh_from_db()
    assert milestone.status == "in_progress" and third.pk  # a letter still to come reopens it


def test_letter_nudge_is_due_only_when_not_uploaded(amira_profile, cycle):
    from datetime import date

    from programs.season.letters import letters_due_for_nudge, save_letter
    from programs.season.models import Letter

    user = amira_profile.user
    late = save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Late", nudge_on=date(2026, 9, 1)))
    save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Done", nudge_on=date(2026, 9, 1),
                              uploaded_on=date(2026, 8, 30)))
    save_letter(letter=Letter(applicant=user, cycle=cycle, writer="Dr Later", nudge_on=date(2026, 12, 1)))
    assert letters_due_for_nudge(applicant=user, cycle=cycle, today=date(2026, 9, 2)) == [late]
