"""Identifiers: the NRMP program code (its grammar is a published fact, written here in our own words), the
ACGME program id, and US state codes.

An NRMP program code has 9 to 11 characters (https://www.nrmp.org/program-codes-and-types/ and
https://www.nrmp.org/help/item/how-is-the-nrmp-program-code-determined/):
  characters 1-4   the NRMP institution code (digits)
  characters 5-7   the ACGME specialty code (digits)
  character 8      the program type letter (C, M, P, A, R in the Main Residency Match; F and S are the
                   Specialties Matching Service's fellowships, which this directory does not hold)
  characters 9-11  the track number: 0 unless the institution has more than one program of that type in
                   that specialty, then numbered in sequence.
Example: 1000140C0 = institution 1000, specialty 140 (internal medicine), categorical, main track.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

NRMP_CODE_RE = re.compile(r"^(?P<institution>\d{4})(?P<specialty>\d{3})(?P<type>[A-Z])(?P<track>\d{1,3})$")
ACGME_ID_RE = re.compile(r"^\d{10}$")


class ProgramType(models.TextChoices):
    CATEGORICAL = "C", "Categorical (PGY-1, full training)"
    PRIMARY_CARE = "M", "Primary care categorical"
    PRELIMINARY = "P", "Preliminary (one year)"
    ADVANCED = "A", "Advanced (starts PGY-2)"
    PHYSICIAN = "R", "Physician (reserved for prior GME)"


FELLOWSHIP_TYPES = {"F", "S"}


@dataclass(frozen=True)
class NrmpCode:
    code: str
    institution_code: str
    specialty_code: str
    program_type: str
    track: str


def normalize_nrmp_code(value: str) -> str:
    """Codes are typed with spaces, dashes and lower case; the canonical form has none of them."""
    return re.sub(r"[\s-]", "", value or "").upper()


def parse_nrmp_code(value: str) -> NrmpCode:
    """Parse an NRMP program code into its parts, or raise ValidationError saying what is wrong."""
    code = normalize_nrmp_code(value)
    match = NRMP_CODE_RE.match(code)
    if match is None:
        raise ValidationError(
            f"{value!r} is not an NRMP program code: expected 4 digits (institution), 3 digits (ACGME "
            "specialty), a program type letter and a 1-3 digit track, e.g. 1000140C0.",
            code="nrmp_code",
        )
    letter = match["type"]
    if letter in FELLOWSHIP_TYPES:
        raise ValidationError(
            f"{code} is a fellowship code (type {letter}); the directory holds Main Residency Match programs.",
            code="nrmp_code",
        )
    if letter not in ProgramType.values:
        raise ValidationError(
            f"{code}: {letter!r} is not an NRMP program type (C, M, P, A or R).", code="nrmp_code"
        )
    return NrmpCode(code, match["institution"], match["specialty"], letter, match["track"])


def validate_nrmp_code(value: str) -> None:
    parse_nrmp_code(value)
    if normalize_nrmp_code(value) != value:
        raise ValidationError(f"Write the code without spaces or dashes, in capitals: {normalize_nrmp_code(value)}.")


def validate_acgme_id(value: str) -> None:
    if value and not ACGME_ID_RE.match(value):
        raise ValidationError(f"{value!r} is not an ACGME program id (10 digits).", code="acgme_id")


US_STATES = [
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("PR", "Puerto Rico"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("GU", "Guam"),
    ("VI", "U.S. Virgin Islands"),
]
US_STATE_CODES = {code for code, _ in US_STATES}
