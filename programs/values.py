"""A claim's value as people write it (a CSV cell, a report form) and as the directory shows it.

Cells: empty = unknown; yes/no for yes/no requirements; a whole number or "none" (no minimum, no limit)
for numbers; an ISO date (2027-02-15) or "none" (not needed) for dates; free text for notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

from .requirements import NUMBER_LIMITS, VALUE_KINDS, ClaimState, Requirement, ValueKind

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
NONE_WORDS = {"none", "no limit", "no minimum", "not required", "n/a"}


@dataclass(frozen=True)
class ClaimValue:
    state: str
    value_bool: bool | None = None
    value_int: int | None = None
    value_date: date | None = None
    value_text: str = ""

    def as_fields(self) -> dict:
        return {
            "state": self.state,
            "value_bool": self.value_bool,
            "value_int": self.value_int,
            "value_date": self.value_date,
            "value_text": self.value_text,
        }


UNKNOWN = ClaimValue(ClaimState.UNKNOWN)
NONE_LABELS = {
    Requirement.MAX_YEARS_SINCE_GRADUATION: "No limit",
    Requirement.MIN_STEP2CK: "No minimum",
    Requirement.MAX_ATTEMPTS: "No limit",
    Requirement.USCE_MONTHS: "None required",
    Requirement.ECFMG_CERTIFICATE_BY: "Not needed before residency starts",
}


def parse_value(requirement: str, cell: str | None) -> ClaimValue:
    """The value a cell states for `requirement`, or ValidationError with a message for the person."""
    text = (cell or "").strip()
    if not text:
        return UNKNOWN
    kind = VALUE_KINDS[Requirement(requirement)]
    lowered = text.lower()
    if kind == ValueKind.TEXT:
        return ClaimValue(ClaimState.KNOWN, value_text=text)
    if kind == ValueKind.YES_NO:
        if lowered in YES or lowered in NO:
            return ClaimValue(ClaimState.KNOWN, value_bool=lowered in YES)
        raise ValidationError(f"{text!r} is not yes or no (leave it empty if unknown).")
    if lowered in NONE_WORDS:
        return ClaimValue(ClaimState.NONE)
    if kind == ValueKind.NUMBER:
        return _parse_number(requirement, text)
    try:
        return ClaimValue(ClaimState.KNOWN, value_date=date.fromisoformat(text))
    except ValueError:
        raise ValidationError(f"{text!r} is not a date like 2027-02-15 (or none, or empty if unknown).") from None


def _parse_number(requirement: str, text: str) -> ClaimValue:
    limit = NUMBER_LIMITS[Requirement(requirement)]
    if not text.isdigit():
        raise ValidationError(f"{text!r} is not a whole number (or none, or empty if unknown).")
    number = int(text)
    if number > limit:
        raise ValidationError(f"{number} is more than {limit}, which cannot be right here.")
    return ClaimValue(ClaimState.KNOWN, value_int=number)


def claim_value(claim) -> ClaimValue:
    return ClaimValue(claim.state, claim.value_bool, claim.value_int, claim.value_date, claim.value_text or "")


def format_value(claim) -> str:
    """The claim's value in words, as the directory shows it."""
    if claim is None or claim.state == ClaimState.UNKNOWN:
        return "Unknown"
    kind = VALUE_KINDS[Requirement(claim.requirement)]
    if claim.state == ClaimState.NONE:
        return NONE_LABELS.get(claim.requirement, "None")
    if kind == ValueKind.YES_NO:
        return "Yes" if claim.value_bool else "No"
    if kind == ValueKind.NUMBER:
        return str(claim.value_int)
    if kind == ValueKind.DATE:
        return claim.value_date.isoformat()
    return claim.value_text


def to_cell(claim) -> str:
    """The claim's value in the import's cell format (the inverse of parse_value), for exports."""
    if claim is None or claim.state == ClaimState.UNKNOWN:
        return ""
    if claim.state == ClaimState.NONE:
        return "none"
    kind = VALUE_KINDS[Requirement(claim.requirement)]
    if kind == ValueKind.YES_NO:
        return "yes" if claim.value_bool else "no"
    if kind == ValueKind.NUMBER:
        return str(claim.value_int)
    if kind == ValueKind.DATE:
        return claim.value_date.isoformat()
    return claim.value_text
