"""The process's reference snapshot (milestones/reference.py, issue 11): rule tables, prerequisite links
and cycle events are read once while nothing changes them, and never served stale after a change: an
admin edit, a bulk update that says so, an edit by another process, or a bump that was rolled back.

Each no-stale test first has the snapshot in hand (read while building a judgement or a page), then
changes the data the way it is changed in production, then shows the next judgement says so.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from milestones import rules as rule_checks
from milestones.models import (
    AttemptLimit,
    CycleEvent,
    Milestone,
    OETSeasonWindow,
    OETThreshold,
    PageVersion,
    PassingStandard,
    ScoreReleaseRule,
    TemplatePrerequisite,
    TravelBanCountry,
)
from milestones.reachability import judge_reachability
from milestones.reference import reference_data
from milestones.risks import pathway_risks
from milestones.services import record_exam_attempt
from milestones.versions import REFERENCE, reference_changed, reference_stamp
from pathway.lib.times import ET

from .test_admin import confirmed_post, cycle_form

pytestmark = pytest.mark.django_db

RULE_TABLES = [
    model._meta.db_table
    for model in (
        AttemptLimit,
        CycleEvent,
        OETSeasonWindow,
        OETThreshold,
        PassingStandard,
        ScoreReleaseRule,
        TemplatePrerequisite,
        TravelBanCountry,
    )
]


@pytest.fixture(autouse=True)
def _today(season_today):
    """The middle of the 2027 season (21 Nov 2026)."""


def read_everything(reference) -> None:
    """Touch every table of the snapshot (each is read on first use)."""
    for name in TABLES:
        getattr(reference, name)


TABLES = (
    "passing_standards",
    "attempt_limits",
    "score_release_rules",
    "oet_thresholds",
    "oet_windows",
    "travel_bans",
    "visa_rules",
    "pathway_seasons",
    "links",
    "events",
)


def codes(user) -> set[str]:
    return {risk.code for risk in pathway_risks(applicant=user)}


# --- Read once ----------------------------------------------------------------------------------------


# On PostgreSQL only: elsewhere a snapshot built inside a transaction (every test's) is not kept, for want
# of the writer's id in the stamp (milestones/reference.py).


def test_the_snapshot_is_reused_while_the_version_is_the_same(postgres, pathway_data, django_assert_num_queries):
    stamp = reference_stamp()
    first = reference_data(stamp)
    read_everything(first)

    with django_assert_num_queries(0):  # the caller already read the stamp (page_state does)
        again = reference_data(stamp)
        read_everything(again)
    with django_assert_num_queries(1):  # the stamp alone
        assert reference_data() is first
    assert again is first


def test_a_dashboard_built_afresh_again_reads_no_rule_table(postgres, amira_profile):
    client = Client()
    client.force_login(amira_profile.user)
    assert client.get(reverse("applicant:dashboard")).status_code == 200
    cache.clear()  # the page is built afresh, the reference snapshot stays

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("applicant:dashboard"))

    assert response.status_code == 200
    assert [q["sql"] for q in queries if any(f'"{table}"' in q["sql"] for table in RULE_TABLES)] == []
    assert len(queries) <= 8  # user, page state, profile, milestones, attempts, OET results, Match outcome...


# --- Never stale -------------------------------------------------------------------------------------


def test_an_edited_attempt_limit_shows_in_the_next_risk_judgement(planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    for day in (date(2024, 1, 10), date(2024, 9, 10)):
        record_exam_attempt(milestone=milestone_of(user, "usmle_step1"), test_date=day, passed=False, by=user)
    assert "attempts_running_low" in codes(user)  # the snapshot holds the limit now

    for limit in AttemptLimit.objects.all():  # as the admin saves a row
        limit.max_attempts -= 1
        limit.save()

    assert "last_attempt" in codes(user)


def test_a_cycle_event_moved_in_the_admin_shows_in_the_next_verdict(amira_profile, root, cycle_2027):
    amira = amira_profile.user
    rol = CycleEvent.objects.get(cycle=cycle_2027, key="nrmp_rol_deadline")
    assert judge_reachability(applicant=amira).gate_at == rol.at
    moved = datetime(2027, 2, 24, 21, tzinfo=ET)
    admin = Client()
    admin.force_login(root)

    url = reverse("admin:milestones_matchcycle_change", args=[cycle_2027.pk])
    response = confirmed_post(admin, url, cycle_form(cycle_2027, nrmp_rol_deadline=moved))

    assert response.status_code == 302
    assert judge_reachability(applicant=amira).gate_at == moved


def test_a_deleted_prerequisite_link_leaves_the_next_milestone_page(amira_profile):
    amira = amira_profile.user
    keys = set(Milestone.objects.of_applicant(amira).values_list("template__key", flat=True))
    link = next(
        link
        for link in TemplatePrerequisite.objects.select_related("template", "requires").order_by("pk")
        if {link.template.key, link.requires.key} <= keys and link.template.deadline_anchor != link.requires.key
    )
    client = Client()
    client.force_login(amira)
    page = reverse("applicant:milestone_detail", args=[link.template.key])
    required = reverse("applicant:milestone_detail", args=[link.requires.key])
    before = client.get(page).content.decode().count(f'href="{required}"')
    assert before >= 1

    link.delete()

    assert client.get(page).content.decode().count(f'href="{required}"') == before - 1


def test_a_bulk_update_that_calls_reference_changed_shows_at_once(pathway_data):
    def judged(score):
        return rule_checks.judge_score(exam="step2ck", test_date=date(2026, 10, 1), score=score).passed

    standard = rule_checks.standard_in_force(exam="step2ck", day=date(2026, 10, 1))
    assert judged(standard.min_score) is True

    PassingStandard.objects.filter(pk=standard.pk).update(min_score=standard.min_score + 5)
    reference_changed()  # QuerySet.update sends no signal: the bulk writer says so (versions.py)

    assert judged(standard.min_score) is False


def test_an_edit_by_another_process_shows_once_its_version_is_read(postgres, pathway_data):
    """Another process's edit reaches this one only through the version row in the database: until the
    version moves this process keeps its snapshot (no query for the rows), after it the new rows."""
    limit = rule_checks.limit_in_force(exam="step1", day=date(2026, 11, 21))
    AttemptLimit.objects.filter(pk=limit.pk).update(max_attempts=limit.max_attempts + 3)  # no signal, no bump
    assert rule_checks.limit_in_force(exam="step1", day=date(2026, 11, 21)).max_attempts == limit.max_attempts

    with connection.cursor() as cursor:  # what the other process's bump leaves in the database
        cursor.execute(
            f"UPDATE {PageVersion._meta.db_table} SET version = version + 1 WHERE scope = %s",  # noqa: S608
            [REFERENCE],
        )

    assert rule_checks.limit_in_force(exam="step1", day=date(2026, 11, 21)).max_attempts == limit.max_attempts + 3


class RolledBack(Exception):
    pass


def test_a_rolled_back_edit_does_not_lend_its_snapshot_to_the_next_edit(pathway_data):
    """A bump rolled back frees its version number; the next edit takes the same number with other data.
    The snapshot built inside the rolled-back edit must not be taken for the next one's."""
    window = OETSeasonWindow.objects.get(cycle_year=2027)
    start = reference_stamp().version
    try:
        with transaction.atomic():
            window.tests_from += timedelta(days=10)
            window.save()
            assert reference_stamp().version == start + 1
            assert rule_checks.oet_window(2027).tests_from == window.tests_from  # built inside the edit
            raise RolledBack
    except RolledBack:
        pass
    assert reference_stamp().version == start

    window = OETSeasonWindow.objects.get(cycle_year=2027)
    window.tests_from -= timedelta(days=10)
    window.save()

    assert reference_stamp().version == start + 1  # the same number as the rolled-back edit's
    assert rule_checks.oet_window(2027).tests_from == window.tests_from
