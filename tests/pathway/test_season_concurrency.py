"""The season's limits hold when requests race (PostgreSQL, one connection per request): six letters
assigned to one program at once leave exactly 4, and two tabs taking the last signal leave one."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from milestones.models import MatchCycle

from ..programs.season_a import apply_to, bulk_programs, season_data  # noqa: F401 (a fixture)
from .test_concurrent_input import concurrently, logged_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres", "season_data")]


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel("2026-10-01 12:00Z", tick=False):
        yield


def test_six_letters_at_once_leave_four_on_the_program(amira_profile):
    from programs.season.letters import save_letter
    from programs.season.models import Letter

    user = amira_profile.user
    cycle = MatchCycle.objects.get(year=2027)
    (application,) = apply_to(user, cycle, bulk_programs(1))
    letters = [save_letter(letter=Letter(applicant=user, cycle=cycle, writer=f"Dr {n}", status="uploaded"))
               for n in range(6)]
    clients = [logged_in(user) for _ in letters]
    responses = concurrently([
        (lambda c=c, pk=letter.pk: c.post(reverse("applicant:season_letter_assign", args=[pk]),
                                         {"application": application.pk}))
        for c, letter in zip(clients, letters, strict=True)
    ])
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 302, 302, 302, 422, 422], codes
    assert application.letter_assignments.count() == 4


def test_two_tabs_taking_the_last_signal_leave_one(amira_profile):
    from programs.season.models import SeasonSignalAllowance

    user = amira_profile.user
    cycle = MatchCycle.objects.get(year=2027)
    apps = apply_to(user, cycle, bulk_programs(2, specialty="120"))  # Family Medicine, single tier
    SeasonSignalAllowance.objects.filter(cycle_year=2027, specialty__acgme_code="120").update(total=1)
    clients = [logged_in(user) for _ in apps]
    responses = concurrently([
        (lambda c=c, pk=a.pk: c.post(reverse("applicant:season_signal", args=[pk]), {"signal": "signal"}))
        for c, a in zip(clients, apps, strict=True)
    ])
    assert sorted(r.status_code for r in responses) == [302, 422]
    assert sum(1 for a in apps if type(a).objects.get(pk=a.pk).signal) == 1
