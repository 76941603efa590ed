"""Bulk recomputation: an event or template change moves every affected deadline in constant queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from milestones.models import ApplicantProfile, CycleEvent, MatchCycle, Milestone, MilestoneTemplate
from milestones.services import recompute_deadlines
from pathway.lib.times import ET
from pathway.models import User

pytestmark = pytest.mark.django_db
KEYS = [
    "usmle_step2ck",
    "ecfmg_exam_reqs_verified",
    "rank_order_list",
    "match_result",
    "graduation",
    "residency_start",
]


def populate(cycle, count, prefix):
    """`count` applicants of `cycle` with a few milestones each, inserted in bulk (setup speed only)."""
    users = User.objects.bulk_create(
        [User(email=f"{prefix}{i}@example.com", role=User.Role.APPLICANT, password="!") for i in range(count)]
    )
    ApplicantProfile.objects.bulk_create(
        [
            ApplicantProfile(
                user=u, applicant_type="NON_US_IMG", graduation_date=date(2025, 6, 30), target_cycle=cycle,
                calendar_token=f"{prefix}-{u.pk}",
            )
            for u in users
        ]
    )  # fmt: skip
    templates = list(MilestoneTemplate.objects.filter(key__in=KEYS))
    Milestone.objects.bulk_create(
        [Milestone(applicant=u, template=t) for u in users for t in templates], batch_size=5000
    )
    return users


def move_rol(cycle, days):
    event = CycleEvent.objects.get(cycle=cycle, key="nrmp_rol_deadline")
    CycleEvent.objects.filter(pk=event.pk).update(at=event.at + timedelta(days=days))


def count_queries(**kwargs):
    with CaptureQueriesContext(connection) as ctx:
        changed = recompute_deadlines(**kwargs)
    return len(ctx.captured_queries), changed


def test_changing_one_event_of_a_5000_applicant_cycle_takes_constant_queries(
    cycle_2027, django_assert_max_num_queries
):
    # The same cycle with 50 applicants, then with 5050: only the number of applicants differs (two
    # cycles would also differ in their events, hence in their distinct deadlines: one UPDATE each).
    populate(cycle_2027, 50, "small")
    recompute_deadlines()  # fill the initial deadlines
    move_rol(cycle_2027, -7)
    small_queries, small_changed = count_queries(cycle=cycle_2027)
    populate(cycle_2027, 5000, "big")
    recompute_deadlines()
    move_rol(cycle_2027, -7)
    with django_assert_max_num_queries(60):
        big_queries, big_changed = count_queries(cycle=cycle_2027)

    assert big_queries == small_queries, (big_queries, small_queries)
    # Step 2 CK, verification and the ROL all hang from the ROL deadline.
    assert (small_changed, big_changed) == (150, 15150)
    rol = Milestone.objects.filter(
        template__key="rank_order_list", applicant__profile__target_cycle=cycle_2027
    )
    assert {m.due_at.astimezone(ET).strftime("%Y-%m-%d %H:%M") for m in rol} == {"2027-02-17 21:00"}
    # Nothing left to do: a second run changes no row.
    assert recompute_deadlines(cycle=cycle_2027) == 0


def test_a_template_rule_change_moves_it_and_the_deadlines_anchored_to_it(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    validation_before = milestone_of(user, "ecfmg_permanent_validation").due_at
    other = milestone_of(user, "rank_order_list").due_at

    MilestoneTemplate.objects.filter(key="residency_start").update(deadline_offset_days=-1)
    changed = recompute_deadlines(template=MilestoneTemplate.objects.get(key="residency_start"))

    assert changed >= 2  # residency_start itself and everything hanging from it (validation, Step 3...)
    assert milestone_of(user, "ecfmg_permanent_validation").due_at == validation_before - timedelta(days=1)
    assert milestone_of(user, "rank_order_list").due_at == other


def test_applicant_date_deadlines_are_recomputed_per_applicant(planned_applicant, milestone_of):
    user = planned_applicant("US_MD", tz="Asia/Tokyo")
    MilestoneTemplate.objects.filter(key="graduation").update(deadline_offset_days=10)

    recompute_deadlines(applicants=[user])

    assert milestone_of(user, "graduation").due_at.isoformat() == "2025-07-10T14:59:00+00:00"


def test_only_the_given_cycle_moves(planned_applicant, milestone_of):
    a = planned_applicant("US_MD", year=2026)
    b = planned_applicant("US_MD", year=2027)
    before = milestone_of(a, "rank_order_list").due_at
    move_rol(MatchCycle.objects.get(year=2027), 1)

    recompute_deadlines(cycle=MatchCycle.objects.get(year=2027))

    assert milestone_of(a, "rank_order_list").due_at == before
    assert milestone_of(b, "rank_order_list").due_at.astimezone(ET).date() == date(2027, 3, 4)
