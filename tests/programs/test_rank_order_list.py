"""The rank order list's services: order by numbers and moves, the NRMP's 300-rank limit (data), supplemental
lists, the extra-rank fee, certifying through the milestone and un-certifying on any edit, stale versions."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from programs.season import rol as services
from programs.season.match_models import Rank, RankList
from programs.season.models import SeasonLimit

from .season_b import (
    AFTER_DEADLINE,
    DRAFTING,
    RANKING,
    fill_primary,
    make_applications,
    make_programs,
    mark_done,
    milestone_status,
    season_rules,  # noqa: F401
)


@pytest.fixture
def amira(applicant, season_rules):  # noqa: F811
    return applicant(specialties=["Internal Medicine"]).user


@pytest.fixture
def apps3(amira):
    cycle = amira.profile.target_cycle
    return make_applications(amira, cycle, make_programs(3))


def version(user):
    rol = services.rank_order_list_of(user, user.profile.target_cycle)
    return rol.version if rol else 0


def add(user, application, **kwargs):
    return services.add_rank(applicant=user, cycle=user.profile.target_cycle, application_id=application.pk,
                             version=version(user), by=user, **kwargs)


def primary_order(user):
    rol = services.rank_order_list_of(user, user.profile.target_cycle)
    return services.current_order(rol.lists.get(kind="primary"))


def test_adding_appends_and_numbers_and_moves_reorder(amira, apps3):
    a, b, c = apps3
    for application in apps3:
        add(amira, application)
    assert primary_order(amira) == [a.pk, b.pk, c.pk]
    assert milestone_status(amira, "rank_order_list") == "in_progress"

    stored = primary_order(amira)
    # Typing 1 for the third program puts it first; the others keep their order below it.
    order = services.order_from_positions(stored, {a.pk: 1, b.pk: 2, c.pk: 1})
    assert order == [c.pk, a.pk, b.pk]
    assert services.reorder(applicant=amira, cycle=amira.profile.target_cycle, order=order,
                            version=version(amira), by=amira)
    assert primary_order(amira) == [c.pk, a.pk, b.pk]
    assert services.order_after_move(primary_order(amira), b.pk, "up") == [c.pk, b.pk, a.pk]
    assert services.order_after_move(primary_order(amira), c.pk, "up") == [c.pk, a.pk, b.pk]  # already first
    assert list(Rank.objects.order_by("rank").values_list("rank", flat=True)) == [1, 2, 3]


def test_a_stale_version_changes_nothing_and_a_double_submit_is_harmless(amira, apps3):
    a, b, c = apps3
    for application in apps3:
        add(amira, application)
    seen = version(amira)
    cycle = amira.profile.target_cycle
    assert services.reorder(applicant=amira, cycle=cycle, order=[b.pk, a.pk, c.pk], version=seen, by=amira)
    # The same form again (a double submit): the order is already stored, nothing to do.
    assert services.reorder(applicant=amira, cycle=cycle, order=[b.pk, a.pk, c.pk], version=seen, by=amira) is False
    # Another tab that loaded the list before the first change asks for another order: refused.
    with pytest.raises(services.StaleList):
        services.reorder(applicant=amira, cycle=cycle, order=[c.pk, b.pk, a.pk], version=seen, by=amira)
    assert primary_order(amira) == [b.pk, a.pk, c.pk]
    with pytest.raises(ValidationError, match="exactly the programs"):
        services.reorder(applicant=amira, cycle=cycle, order=[a.pk, a.pk, c.pk], version=version(amira), by=amira)


def test_someone_elses_or_withdrawn_program_cannot_be_ranked(amira, apps3, applicant):
    carla = applicant().user
    theirs = make_applications(carla, carla.profile.target_cycle, make_programs(1, start=50))[0]
    with pytest.raises(ValidationError, match="not on your list"):
        add(amira, theirs)
    apps3[0].status = "withdrawn"
    apps3[0].save()
    with pytest.raises(ValidationError, match="withdrew"):
        add(amira, apps3[0])
    assert not Rank.objects.exists()


def test_three_hundred_ranks_fit_and_the_next_is_refused(amira):
    cycle = amira.profile.target_cycle
    applications = make_applications(amira, cycle, make_programs(301))
    fill_primary(amira, cycle, applications[:299])
    add(amira, applications[299])  # the 300th: at the limit
    with pytest.raises(ValidationError, match="at most 300 ranks") as refused:
        add(amira, applications[300])
    assert "300" in str(refused.value)
    assert Rank.objects.count() == 300


def test_the_limit_is_data(amira, apps3):
    SeasonLimit.objects.filter(cycle_year=2027, key="rol_ranks").update(value=2)
    add(amira, apps3[0])
    add(amira, apps3[1])
    with pytest.raises(ValidationError, match="at most 2 ranks"):
        add(amira, apps3[2])
    SeasonLimit.objects.filter(key="rol_ranks").delete()
    with pytest.raises(ValidationError, match="No rol ranks limit is recorded"):
        add(amira, apps3[2])


def test_supplemental_lists_take_preliminary_programs_linked_to_advanced_ones(amira):
    cycle = amira.profile.target_cycle
    advanced = make_applications(amira, cycle, make_programs(1, specialty="420", letter="A"))[0]
    categorical = make_applications(amira, cycle, make_programs(1, start=10))[0]
    prelim = make_applications(amira, cycle, make_programs(2, letter="P", start=20))
    with pytest.raises(ValidationError, match="advanced"):
        services.create_supplemental_list(applicant=amira, cycle=cycle, name="Prelim East",
                                          advanced_ids=[advanced.pk], version=version(amira), by=amira)
    add(amira, advanced)
    add(amira, categorical)
    with pytest.raises(ValidationError, match="advanced"):
        services.create_supplemental_list(applicant=amira, cycle=cycle, name="Prelim East",
                                          advanced_ids=[categorical.pk], version=version(amira), by=amira)
    supplemental = services.create_supplemental_list(applicant=amira, cycle=cycle, name="Prelim East",
                                                     advanced_ids=[advanced.pk], version=version(amira), by=amira)
    with pytest.raises(ValidationError, match="not a preliminary"):
        add(amira, categorical, list_id=supplemental.pk)
    add(amira, prelim[0], list_id=supplemental.pk)
    add(amira, prelim[1], list_id=supplemental.pk)
    assert services.current_order(supplemental) == [prelim[0].pk, prelim[1].pk]
    # Taking the advanced program off the primary list unlinks it.
    services.remove_rank(applicant=amira, cycle=cycle, application_id=advanced.pk, version=version(amira), by=amira)
    assert not RankList.objects.get(pk=supplemental.pk).advanced.exists()


def test_certifying_needs_ranking_open_registration_done_and_the_deadline_not_passed(amira, apps3):
    cycle = amira.profile.target_cycle
    for application in apps3:
        add(amira, application)
    certify = lambda: services.certify(applicant=amira, cycle=cycle, version=version(amira), by=amira)  # noqa: E731
    with pytest.raises(ValidationError, match="opens ranking on Mon 1 Feb 2027, 12:00 PM ET"):
        certify()
    with time_machine.travel(RANKING, tick=False):
        with pytest.raises(ValidationError, match="Complete these first: Register for the NRMP"):
            certify()
        mark_done(amira, "nrmp_registration")
        rol = certify()
        assert rol.is_certified
        assert milestone_status(amira, "rank_order_list") == "done"
        assert certify().certified_at == rol.certified_at  # a double submit: nothing new
        # An edit after certifying un-certifies, and the milestone opens again.
        services.reorder(applicant=amira, cycle=cycle, order=list(reversed(primary_order(amira))),
                         version=version(amira), by=amira)
        rol.refresh_from_db()
        assert not rol.is_certified
        assert milestone_status(amira, "rank_order_list") == "in_progress"
        certify()
        assert milestone_status(amira, "rank_order_list") == "done"
    with time_machine.travel(AFTER_DEADLINE, tick=False), pytest.raises(ValidationError, match="deadline .* has passed"):
        services.reorder(applicant=amira, cycle=cycle, order=list(reversed(primary_order(amira))),
                         version=version(amira), by=amira)


def test_an_empty_list_cannot_be_certified(amira, apps3):
    cycle = amira.profile.target_cycle
    add(amira, apps3[0])
    services.remove_rank(applicant=amira, cycle=cycle, application_id=apps3[0].pk, version=version(amira), by=amira)
    mark_done(amira, "nrmp_registration")
    with time_machine.travel(RANKING, tick=False), pytest.raises(ValidationError, match="at least one"):
        services.certify(applicant=amira, cycle=cycle, version=version(amira), by=amira)


def test_drafting_months_before_ranking_opens_is_allowed(amira, apps3):
    with time_machine.travel(DRAFTING, tick=False):
        add(amira, apps3[0])
    assert primary_order(amira) == [apps3[0].pk]
