"""'Eligible only' runs in SQL: a page of 25 costs the same queries with 10,000 programs as with 100."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext

from programs.demo import bulk_synthetic_programs
from programs.eligibility import Outcome, verdicts_for
from programs.filters import ProgramFilter
from programs.models import DirectorySettings, Program

pytestmark = pytest.mark.django_db

PAGE = 25


def eligible_page(user, data):
    """What the directory page does: filter, paginate, a verdict badge per program."""
    request = RequestFactory().get("/programs/", data)
    request.user = user
    queryset = Program.objects.visible_to(user).with_related().with_claims().order_by("name", "pk")
    page = Paginator(ProgramFilter(data, queryset=queryset, request=request).qs, PAGE).page(1)
    programs = list(page.object_list)
    return page.paginator.count, programs, verdicts_for(profile=user.profile, programs=programs)


@pytest.mark.slow
def test_eligible_only_costs_the_same_queries_for_10000_programs_as_for_100(postgres, applicant, specialties):
    profile = applicant(visa_route="J1")
    user = profile.user
    data = {"eligible": "true", "state": ["NY", "TX", "CA", "OH", "FL"]}
    bulk_synthetic_programs(100)
    DirectorySettings.current()  # the settings row exists on any real site (created once, on first use)
    user.refresh_from_db()
    with CaptureQueriesContext(connection) as small:
        total_small, programs_small, verdicts = eligible_page(user, data)
    assert 0 < total_small < 100 and len(programs_small) == min(PAGE, total_small)
    assert all(v.outcome == Outcome.PASS for v in verdicts.values())

    bulk_synthetic_programs(9_900, start=100)
    user.refresh_from_db()
    with CaptureQueriesContext(connection) as large:
        total_large, programs_large, verdicts = eligible_page(user, data)

    assert Program.objects.count() == 10_000 and total_large > total_small and len(programs_large) == PAGE
    assert all(v.outcome == Outcome.PASS for v in verdicts.values())
    assert len(large.captured_queries) == len(small.captured_queries), "\n".join(q["sql"][:150] for q in large.captured_queries)
    assert len(small.captured_queries) <= 12
