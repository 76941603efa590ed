"""The NRMP program code, parsed as NRMP documents it: institution, ACGME specialty, type letter, track."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from programs.codes import parse_nrmp_code, validate_acgme_id


def test_the_documented_example_parses_into_its_parts():
    code = parse_nrmp_code("1000140C0")
    assert (code.institution_code, code.specialty_code, code.program_type, code.track) == ("1000", "140", "C", "0")


@pytest.mark.parametrize("text, track", [("9999140P1", "1"), ("9999 140-a12", "12"), ("9999120M123", "123")])
def test_tracks_of_one_to_three_digits_and_typed_spacing(text, track):
    assert parse_nrmp_code(text).track == track


@pytest.mark.parametrize(
    "text, words",
    [
        ("999914C0", "not an NRMP program code"),  # specialty of 2 digits
        ("9999140C1234", "not an NRMP program code"),  # track of 4 digits
        ("9999140X0", "not an NRMP program type"),
        ("9999140F0", "fellowship"),
        ("", "not an NRMP program code"),
    ],
)
def test_bad_codes_are_refused_with_a_reason(text, words):
    with pytest.raises(ValidationError) as error:
        parse_nrmp_code(text)
    assert words in " ".join(error.value.messages)


def test_acgme_ids_are_ten_digits():
    validate_acgme_id("1204821307")
    with pytest.raises(ValidationError):
        validate_acgme_id("12048213")
