"""The demo applicant: a non-US IMG mid-way through the 2027 season, built through the services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from milestones.demo import load_demo_pathway
from milestones.models import Milestone
from milestones.risks import pathway_risks

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 21, 12, tzinfo=UTC), tick=False)
def test_the_demo_pathway_is_mid_season_with_deadlines_and_a_risk(amira, pathway_data):
    load_demo_pathway(applicant=amira)
    load_demo_pathway(applicant=amira)  # idempotent

    status = dict(Milestone.objects.filter(applicant=amira).values_list("template__key", "status"))
    assert status["usmle_step1"] == status["usmle_step2ck"] == status["oet_medicine"] == "done"
    assert status["eras_application"] == "done"
    assert status["ecfmg_pathway"] == status["interviews"] == status["nrmp_registration"] == "in_progress"
    assert Milestone.objects.get(applicant=amira, template__key="usmle_step2ck").attempts.get().score == 236
    assert Milestone.objects.get(applicant=amira, template__key="usmle_step1").attempts.count() == 1
    upcoming = Milestone.objects.filter(applicant=amira).due_between(
        datetime(2026, 11, 21, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC)
    )
    assert upcoming.filter(template__key__in=["statement_of_need", "rank_order_list"]).count() == 2
    assert pathway_risks(applicant=amira)
