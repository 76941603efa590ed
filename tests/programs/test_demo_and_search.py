"""The fictional demo set (loaded by load_demo, idempotent) and the directory's search and filters."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from programs.filters import ProgramFilter
from programs.models import Program, RequirementClaim, Specialty

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(specialties):
    from programs.demo import load_demo_programs

    load_demo_programs()


def test_load_demo_loads_about_60_fictional_programs_once(pathway_data):
    call_command("load_demo", verbosity=0)
    programs = Program.objects.all()
    assert 55 <= programs.count() <= 65
    assert all(p.nrmp_code.startswith("9999") and "fictional" in p.name.lower() for p in programs)
    assert programs.values("state").distinct().count() >= 8
    assert programs.values("specialty").distinct().count() >= 10
    before = (Program.objects.count(), RequirementClaim.objects.count(), RequirementClaim.history.count())
    call_command("load_demo", verbosity=0)
    assert (Program.objects.count(), RequirementClaim.objects.count(), RequirementClaim.history.count()) == before


def test_specialties_carry_their_application_service(specialties):
    assert Specialty.objects.get(acgme_code="110").application_service == "ResidencyCAS"
    assert Specialty.objects.get(acgme_code="140").application_service == "ERAS"


@pytest.mark.parametrize("text", ["Quillfeather Pediatrics Residency", "quillfeath pedi", "QUILLFEATHER PEDIATRICS (DEMO)"])
def test_search_finds_a_program_by_its_eras_or_nrmp_name(demo, text):
    found = Program.objects.search(text)
    assert found.exists()
    assert all("Quillfeather" in p.name and "Pediatrics" in p.name for p in found)


def test_search_by_code_prefix(demo):
    assert set(Program.objects.search("9999140").values_list("specialty__acgme_code", flat=True)) == {"140"}


def test_filters_by_state_visa_and_specialty(demo):
    data = {"state": ["NY", "TX"], "visa": "H1B", "specialty": "140"}
    found = ProgramFilter(data, queryset=Program.objects.all()).qs
    assert found.exists()
    for program in found:
        assert program.state in {"NY", "TX"} and program.specialty.acgme_code == "140"
        assert program.claims.get(requirement="visa_h1b").value_bool is True


def test_bad_filter_values_are_refused_not_crashed(demo):
    bad = ProgramFilter({"state": "ZZ", "step2ck": "abc", "visa": "F1"}, queryset=Program.objects.all())
    assert not bad.is_valid()
    assert set(bad.errors) == {"state", "step2ck", "visa"}
