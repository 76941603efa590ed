"""What a program can require, the kinds of values a claim takes, and where a claim can come from.

Kept apart from the models so the query builders and the value parser can use them without importing
the models (no import cycles).
"""

from __future__ import annotations

from datetime import date

from django.db import models

from milestones.models import USMLE_SCORE_MAX


class SourceKind(models.TextChoices):
    PROGRAM_WEBSITE = "program_website", "The program's website"
    PROGRAM_EMAIL = "program_email", "An email from the program"
    LIST = "list", "A list the user read"
    ADVISOR = "advisor", "An advisor"
    IMPORT = "import", "An imported file"
    DEMO = "demo", "Fictional demo data"



class Requirement(models.TextChoices):
    """What a program asks of applicants. Each has one kind of value (see VALUE_KINDS)."""

    VISA_J1 = "visa_j1", "J-1 visa sponsorship"
    VISA_H1B = "visa_h1b", "H-1B visa sponsorship"
    MAX_YEARS_SINCE_GRADUATION = "max_years_since_graduation", "Maximum years since graduation"
    MIN_STEP2CK = "min_step2ck", "Minimum Step 2 CK score"
    MAX_ATTEMPTS = "max_attempts", "Attempts accepted per Step"
    USCE_MONTHS = "usce_months_required", "Months of US clinical experience"
    ECFMG_CERTIFICATE_BY = "ecfmg_certificate_by", "ECFMG certificate needed by"
    STEP3_BEFORE_RANKING = "step3_before_ranking", "Step 3 passed before ranking"
    NOTES = "notes", "Notes"


class ValueKind(models.TextChoices):
    YES_NO = "yes_no", "yes / no"
    NUMBER = "number", "a whole number, or none"
    DATE = "date", "a date, or none"
    TEXT = "text", "free text"


VALUE_KINDS = {
    Requirement.VISA_J1: ValueKind.YES_NO,
    Requirement.VISA_H1B: ValueKind.YES_NO,
    Requirement.MAX_YEARS_SINCE_GRADUATION: ValueKind.NUMBER,
    Requirement.MIN_STEP2CK: ValueKind.NUMBER,
    Requirement.MAX_ATTEMPTS: ValueKind.NUMBER,
    Requirement.USCE_MONTHS: ValueKind.NUMBER,
    Requirement.ECFMG_CERTIFICATE_BY: ValueKind.DATE,
    Requirement.STEP3_BEFORE_RANKING: ValueKind.YES_NO,
    Requirement.NOTES: ValueKind.TEXT,
}
# Upper bounds of the numbers people type: a typo beyond them is refused, not stored.
NUMBER_LIMITS = {
    Requirement.MAX_YEARS_SINCE_GRADUATION: 60,
    Requirement.MIN_STEP2CK: USMLE_SCORE_MAX,
    Requirement.MAX_ATTEMPTS: 10,
    Requirement.USCE_MONTHS: 120,
}


class ClaimState(models.TextChoices):
    KNOWN = "known", "Stated (the value)"
    NONE = "none", "No such requirement (stated)"
    UNKNOWN = "unknown", "Unknown"


# --- The claims' values, copied onto the program for the SQL filters ------------------------------
# "Eligible only" over 10,000 programs as one EXISTS per requirement cost ~100 ms of planning and
# execution (seven semi-joins); the same test on the program's own columns is a plain WHERE. Each column
# holds the current claim's value, encoded so that SQL's NULL is "unknown" (it never passes and never
# fails a comparison) and a stated "none" compares as the loosest value.
NO_LIMIT = 32767  # "none" for a maximum (years, attempts)
NO_MINIMUM = 0  # "none" for a minimum (Step 2 CK, months of USCE)
NOT_NEEDED = date(9999, 12, 31)  # "none" for the ECFMG certificate date

SUMMARY_FIELDS = {
    Requirement.VISA_J1: "req_visa_j1",
    Requirement.VISA_H1B: "req_visa_h1b",
    Requirement.MAX_YEARS_SINCE_GRADUATION: "req_max_years",
    Requirement.MIN_STEP2CK: "req_min_step2ck",
    Requirement.MAX_ATTEMPTS: "req_max_attempts",
    Requirement.USCE_MONTHS: "req_usce_months",
    Requirement.ECFMG_CERTIFICATE_BY: "req_ecfmg_by",
    Requirement.STEP3_BEFORE_RANKING: "req_step3_before_ranking",
}
_NONE_VALUES = {
    Requirement.MAX_YEARS_SINCE_GRADUATION: NO_LIMIT,
    Requirement.MAX_ATTEMPTS: NO_LIMIT,
    Requirement.MIN_STEP2CK: NO_MINIMUM,
    Requirement.USCE_MONTHS: NO_MINIMUM,
    Requirement.ECFMG_CERTIFICATE_BY: NOT_NEEDED,
    Requirement.STEP3_BEFORE_RANKING: False,
}


def summary_value(requirement: str, state: str, value_bool, value_int, value_date):
    """The program column's value for a claim (None = unknown)."""
    if state == ClaimState.NONE:
        return _NONE_VALUES.get(requirement)
    if state != ClaimState.KNOWN:
        return None
    kind = VALUE_KINDS[Requirement(requirement)]
    return {ValueKind.YES_NO: value_bool, ValueKind.NUMBER: value_int, ValueKind.DATE: value_date}.get(kind)


# The CSV columns that carry claims, in the file's order (import and export share them).
CSV_CLAIM_COLUMNS = {
    "visa_j1": Requirement.VISA_J1,
    "visa_h1b": Requirement.VISA_H1B,
    "max_years_since_graduation": Requirement.MAX_YEARS_SINCE_GRADUATION,
    "min_step2ck": Requirement.MIN_STEP2CK,
    "max_attempts": Requirement.MAX_ATTEMPTS,
    "usce_months_required": Requirement.USCE_MONTHS,
    "ecfmg_certificate_by": Requirement.ECFMG_CERTIFICATE_BY,
    "step3_before_ranking": Requirement.STEP3_BEFORE_RANKING,
    "notes": Requirement.NOTES,
}
