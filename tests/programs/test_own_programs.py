"""An applicant adds a program they apply to, by NRMP code or name, and records what they read."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from programs.models import ApplicantProgram, OutdatedReport, Program
from programs.services.own import add_own_program

pytestmark = pytest.mark.django_db


def test_a_listed_program_is_found_by_code_and_what_was_read_goes_to_review(make_program, amira):
    program = make_program("9999140C0", visa_j1="yes")
    entry, created = add_own_program(applicant=amira, nrmp_code="9999-140-c0", claims={"visa_j1": "no"},
                                     source_url="https://example.org/read")
    assert not created and entry.program == program
    assert program.claims.get(requirement="visa_j1").value_bool is True  # unchanged until reviewed
    assert OutdatedReport.objects.get().proposed_value == "no"
    again, _ = add_own_program(applicant=amira, nrmp_code="9999140C0")
    assert again == entry and ApplicantProgram.objects.count() == 1


def test_a_new_program_is_the_applicants_own_with_their_claims(specialties, amira, carla, ben):
    entry, created = add_own_program(applicant=amira, nrmp_code="9999400C3", name="Fictional Psych I Read About",
                                     claims={"visa_h1b": "yes", "min_step2ck": "225"},
                                     source_url="https://example.org/psych", source_kind="program_email")
    program = entry.program
    assert created and not program.listed and program.specialty.acgme_code == "400" and program.added_by == amira
    assert program.claims.get(requirement="min_step2ck").value_int == 225
    assert program.claims.get(requirement="visa_h1b").entered_by == amira
    assert list(Program.objects.visible_to(amira)) == [program]
    assert not Program.objects.visible_to(carla).exists()
    assert list(Program.objects.visible_to(ben)) == [program]
    with pytest.raises(ValidationError) as error:
        add_own_program(applicant=carla, nrmp_code="9999400C3", name="Same")
    assert "nrmp_code" in error.value.message_dict


def test_by_name_matches_the_eras_name(make_program, amira):
    program = make_program("9999140C0")
    program.eras_name = "Owlglass IM Residency"
    program.save()
    entry, created = add_own_program(applicant=amira, name="owlglass im residency")
    assert entry.program == program and not created


@pytest.mark.parametrize("fields, key", [
    ({"nrmp_code": "12345"}, "nrmp_code"),
    ({"nrmp_code": "9999140C9"}, "name"),
    ({}, "name"),
    ({"name": "Fine", "claims": {"visa_j1": "perhaps"}}, None),
])
def test_bad_input_is_refused_and_changes_nothing(specialties, amira, fields, key):
    with pytest.raises(ValidationError) as error:
        add_own_program(applicant=amira, **fields)
    if key:
        assert key in error.value.message_dict
    assert not Program.objects.exists() and not ApplicantProgram.objects.exists()
