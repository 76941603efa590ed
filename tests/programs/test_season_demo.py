"""The demo applicant's season, loaded by `manage.py load_demo` through the services: about 25 programs,
interviews (two on one day), letters and a draft rank order list; loading it twice changes nothing."""

from __future__ import annotations

from django.core.management import call_command

from milestones.models import Milestone
from pathway.models import User
from programs.season.interviews import conflicts
from programs.season.match_models import Rank, RankOrderList
from programs.season.models import Application, Interview, Letter


def test_the_demo_applicant_gets_a_realistic_season(pathway_data):
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)  # idempotent
    amira = User.objects.get(email="applicant@example.com")
    cycle = amira.profile.target_cycle
    applications = Application.objects.filter(applicant=amira, cycle=cycle)
    assert applications.count() == 25
    statuses = set(applications.values_list("status", flat=True))
    assert {"ranked", "scheduled", "invited", "applied", "considering"} <= statuses
    assert applications.exclude(signal="").count() == 5
    assert Letter.objects.filter(applicant=amira).count() == 4
    interviews = list(Interview.objects.filter(application__applicant=amira).select_related("application__program"))
    assert len(interviews) == 15
    assert any(conflicts([i for i in interviews if i.starts_at], amira.profile.tz).values())
    rol = RankOrderList.objects.get(applicant=amira, cycle=cycle)
    assert not rol.is_certified
    ranks = list(Rank.objects.filter(rank_list__rol=rol).order_by("rank").values_list("rank", flat=True))
    assert ranks == list(range(1, 9))
    assert Milestone.objects.get(applicant=amira, template__key="rank_order_list").status == "in_progress"
