"""The rank order list and Match Week pages: keyboard-only forms (numbers, moves), the version sent back,
refusals as 422 with nothing changed, the query count with 300 ranks, SOAP on the page."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs.season.match_models import MatchOutcome, Rank, RankOrderList

from .season_b import (
    MONDAY,
    RANKING,
    ROUND_1,
    fill_primary,
    make_applications,
    make_programs,
    mark_done,
    milestone_status,
    season_rules,  # noqa: F401
)

ROL = reverse("applicant:season_rol")


@pytest.fixture
def amira(applicant, season_rules):  # noqa: F811
    return applicant(specialties=["Internal Medicine"]).user


@pytest.fixture
def signed_in(client, amira):
    client.force_login(amira)
    return client


def order_of(user):
    return list(Rank.objects.filter(rank_list__rol__applicant=user).order_by("rank").values_list("application_id", flat=True))


def page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ROL).status_code == 200
    return len(queries)


def test_the_page_reads_300_ranks_in_as_many_queries_as_3(signed_in, amira):
    cycle = amira.profile.target_cycle
    applications = make_applications(amira, cycle, make_programs(300))
    fill_primary(amira, cycle, applications[:3])
    few = page_queries(signed_in)
    Rank.objects.all().delete()
    fill_primary(amira, cycle, applications)
    response = signed_in.get(ROL)
    assert response.content.decode().count('class="rank-input"') == 300
    assert page_queries(signed_in) == few


def test_ranking_with_the_keyboard_forms_only(signed_in, amira):
    cycle = amira.profile.target_cycle
    a, b, c = make_applications(amira, cycle, make_programs(3))
    for application in (a, b, c):
        version = RankOrderList.objects.filter(applicant=amira).values_list("version", flat=True).first() or 0
        response = signed_in.post(reverse("applicant:season_rol_add"), {"application": application.pk, "version": version})
        assert response.status_code == 302
    version = RankOrderList.objects.get(applicant=amira).version
    # The typed numbers: C first.
    response = signed_in.post(reverse("applicant:season_rol_order"), {
        "version": version, f"rank-{a.pk}": "2", f"rank-{b.pk}": "3", f"rank-{c.pk}": "1"})
    assert response.status_code == 302
    assert order_of(amira) == [c.pk, a.pk, b.pk]
    # A move button.
    signed_in.post(reverse("applicant:season_rol_order"), {"version": version + 1, "move": f"down:{c.pk}"})
    assert order_of(amira) == [a.pk, c.pk, b.pk]
    # The first tab's old version: refused, 422, the list as it is now, nothing changed.
    response = signed_in.post(reverse("applicant:season_rol_order"), {"version": version, "move": f"up:{b.pk}"})
    assert response.status_code == 422
    assert "changed in another tab" in response.content.decode()
    assert order_of(amira) == [a.pk, c.pk, b.pk]
    # Nonsense is refused the same way.
    response = signed_in.post(reverse("applicant:season_rol_order"), {
        "version": version + 2, f"rank-{a.pk}": "x", f"rank-{b.pk}": "1", f"rank-{c.pk}": "2"})
    assert response.status_code == 422
    assert "whole number" in response.content.decode()
    assert order_of(amira) == [a.pk, c.pk, b.pk]


def test_certifying_on_the_page_and_un_certifying_by_an_edit(signed_in, amira):
    cycle = amira.profile.target_cycle
    a, b = make_applications(amira, cycle, make_programs(2))
    rol = fill_primary(amira, cycle, [a, b])
    mark_done(amira, "nrmp_registration")
    with time_machine.travel(RANKING, tick=False):
        signed_in.force_login(amira)  # a session from months before has expired
        assert signed_in.post(reverse("applicant:season_rol_certify"), {"version": rol.version}).status_code == 302
        assert "Certified" in signed_in.get(ROL).content.decode()
        assert milestone_status(amira, "rank_order_list") == "done"
        signed_in.post(reverse("applicant:season_rol_order"), {"version": rol.version, "move": f"up:{b.pk}"})
        page = signed_in.get(ROL).content.decode()
        assert "after certifying" in page
        assert milestone_status(amira, "rank_order_list") == "in_progress"


def test_the_extra_rank_fee_and_the_nrmp_median_are_shown_with_their_sources(signed_in, amira):
    cycle = amira.profile.target_cycle
    fill_primary(amira, cycle, make_applications(amira, cycle, make_programs(23)))
    page = signed_in.get(ROL).content.decode()
    assert "3 extra: $90" in page  # 23 codes, 20 covered, $30 each (2027: projected)
    assert "https://www.nrmp.org/intro-to-the-match/match-fees/" in page
    assert "<strong>23</strong> (Internal Medicine" in page  # all 23 are Internal Medicine
    assert "Non-US-IMG_Charting-Outcomes_FINAL.pdf" in page


def test_match_week_soap_and_an_accepted_offer_on_the_pages(signed_in, amira):
    mark_done(amira, "nrmp_registration", "rank_order_list")
    (program,) = make_programs(1)
    with time_machine.travel(MONDAY, tick=False):
        signed_in.force_login(amira)
        response = signed_in.post(reverse("applicant:season_match_status"), {"status": "unmatched", "soap_eligible": "on"})
        assert response.status_code == 302
        page = signed_in.get(reverse("applicant:season_match"), {"q": program.name}).content.decode()
        assert "Apply in SOAP" in page
        assert signed_in.post(reverse("applicant:season_soap_apply"), {"program": program.pk}).status_code == 302
        response = signed_in.post(reverse("applicant:season_soap_apply"), {"program": program.pk})
        assert response.status_code == 422
    application = MatchOutcome.objects.get().soap_applications.get()
    with time_machine.travel(ROUND_1, tick=False):
        assert signed_in.post(reverse("applicant:season_soap_offer"), {"application": application.pk}).status_code == 302
        offer = application.offers.get()
        assert signed_in.post(reverse("applicant:season_soap_answer"), {"offer": offer.pk, "answer": "accept"}).status_code == 302
        assert "You matched" in signed_in.get(reverse("applicant:season_match")).content.decode()
        dashboard = signed_in.get(reverse("applicant:dashboard")).content.decode()
        assert "You matched" in dashboard and program.name in dashboard
    assert MatchOutcome.objects.get().matched_program == program
