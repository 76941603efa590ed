"""Reordering from two tabs at once, or a double submit, on real PostgreSQL with one connection per thread:
no rank is ever lost or duplicated, and the loser is told, with nothing saved."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError

from programs.season import rol as services
from programs.season.match_models import Rank, RankOrderList

from ..pathway.test_concurrent_input import concurrently
from .season_b import fill_primary, make_applications, make_programs, season_rules  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listed(postgres, applicant, season_rules):  # noqa: F811
    user = applicant().user
    cycle = user.profile.target_cycle
    applications = make_applications(user, cycle, make_programs(12))
    fill_primary(user, cycle, applications)
    return user, cycle, [a.pk for a in applications]


def ranks_of(user):
    return list(
        Rank.objects.filter(rank_list__rol__applicant=user, rank_list__kind="primary")
        .order_by("rank")
        .values_list("rank", "application_id")
    )


def test_two_tabs_reordering_at_once_keep_one_order_whole(listed):
    user, cycle, ids = listed
    version = RankOrderList.objects.get(applicant=user).version
    first, second = list(reversed(ids)), ids[1:] + ids[:1]

    results = concurrently([
        lambda: services.reorder(applicant=user, cycle=cycle, order=first, version=version, by=user),
        lambda: services.reorder(applicant=user, cycle=cycle, order=second, version=version, by=user),
    ])

    won = [r for r in results if r is True]
    lost = [r for r in results if isinstance(r, services.StaleList)]
    assert len(won) == 1 and len(lost) == 1, results
    stored = ranks_of(user)
    assert [rank for rank, _ in stored] == list(range(1, 13))
    assert [pk for _, pk in stored] in (first, second)
    assert RankOrderList.objects.get(applicant=user).version == version + 1


def test_a_double_submit_of_the_same_order_is_stored_once(listed):
    user, cycle, ids = listed
    version = RankOrderList.objects.get(applicant=user).version
    wanted = list(reversed(ids))

    results = concurrently([
        lambda: services.reorder(applicant=user, cycle=cycle, order=wanted, version=version, by=user)
        for _ in range(2)
    ])

    # One stores it; the other, waiting on the lock, then finds it stored: nothing to do, no error.
    assert sorted(results, key=str) == [False, True], results
    assert [pk for _, pk in ranks_of(user)] == wanted
    assert RankOrderList.objects.get(applicant=user).version == version + 1


def test_many_tabs_moving_programs_with_retries_never_lose_or_duplicate_a_rank(listed):
    user, cycle, ids = listed
    rng = random.Random(13)
    picks = [(rng.choice(ids), rng.choice(["up", "down"])) for _ in range(6)]

    def tab(application_id, direction):
        # A person in one tab: reload on "changed in another tab" and try again.
        for _attempt in range(20):
            rol = RankOrderList.objects.get(applicant=user)
            stored = [pk for _, pk in ranks_of(user)]
            order = services.order_after_move(stored, application_id, direction)
            try:
                return services.reorder(applicant=user, cycle=cycle, order=order, version=rol.version, by=user)
            except services.StaleList:
                continue
        return "gave up"

    results = concurrently([lambda p=pick: tab(*p) for pick in picks])

    assert not [r for r in results if isinstance(r, Exception) or r == "gave up"], results
    stored = ranks_of(user)
    assert [rank for rank, _ in stored] == list(range(1, 13))
    assert sorted(pk for _, pk in stored) == sorted(ids)


def test_two_tabs_adding_at_once_add_one_and_refuse_the_other(postgres, applicant, season_rules):  # noqa: F811
    user = applicant().user
    cycle = user.profile.target_cycle
    a, b = make_applications(user, cycle, make_programs(2))
    services.add_rank(applicant=user, cycle=cycle, application_id=a.pk, version=0, by=user)
    version = RankOrderList.objects.get(applicant=user).version
    services.remove_rank(applicant=user, cycle=cycle, application_id=a.pk, version=version, by=user)
    version += 1

    results = concurrently([
        lambda app=app: services.add_rank(applicant=user, cycle=cycle, application_id=app.pk, version=version, by=user)
        for app in (a, b)
    ])

    assert sum(isinstance(r, Rank) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) for r in results) == 1, results
    assert [rank for rank, _ in ranks_of(user)] == [1]
