"""The demo advisor's cohort: about forty students of every kind and state, built through the services."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from pathway.advising.cohort import CohortFilter, cohort
from pathway.advising.demo import load_demo_cohort
from pathway.models import StudentRiskFlag

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 21, 12, tzinfo=UTC), tick=False)
def test_the_demo_cohort_has_every_kind_of_student_on_track_late_and_at_risk(pathway_data):
    advisor = UserFactory(advisor=True, email="advisor@example.com")
    assert load_demo_cohort(advisor=advisor) == 40
    assert load_demo_cohort(advisor=advisor) == 0  # idempotent

    students = list(cohort(advisor, CohortFilter({}, specialties=[]), now=timezone.now()))
    assert len(students) == 40
    kinds = Counter((s.profile.applicant_type, s.profile.visa_route) for s in students)
    assert {"US_MD", "US_DO", "US_IMG", "NON_US_IMG"} == {kind for kind, _ in kinds}
    assert kinds["NON_US_IMG", "J1"] and kinds["NON_US_IMG", "H1B"]
    late = [s for s in students if s.overdue]
    flagged = [s for s in students if s.risk_count]
    on_track = [s for s in students if not s.overdue and not s.risk_count]
    assert len(late) >= 5 and len(flagged) >= 5 and len(on_track) >= 15
    codes = set(StudentRiskFlag.objects.active().values_list("code", flat=True))
    assert {"ecfmg_unverified", "img_rol_gate"} <= codes
    assert len({s.profile.specialties[0] for s in students}) == 5
