"""Export programs as CSV, in the import's own format (so an export can be edited and imported back).

Spreadsheet formulas are escaped: a cell beginning with =, +, -, @, a tab or a carriage return would be run
as a formula by Excel, LibreOffice or Google Sheets (CSV injection), so it is written with a leading
apostrophe, which spreadsheets show as text. The importer removes that apostrophe again.
"""

from __future__ import annotations

import csv

from .requirements import CSV_CLAIM_COLUMNS
from .values import to_cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = [
    "program_code", "acgme_id", "name", "eras_name", "nrmp_name", "institution", "city", "state", "specialty",
    "track", "positions", "visa_j1", "visa_h1b", "max_years_since_graduation", "min_step2ck", "max_attempts",
    "usce_months_required", "ecfmg_certificate_by", "step3_before_ranking", "notes", "source_url",
    "observed_on",
]
CLAIM_EXPORT = CSV_CLAIM_COLUMNS


def escape_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_cell(text: str) -> str:
    """The inverse of escape_cell, for cells read back by the importer."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def export_programs_csv(queryset, stream) -> None:
    """Write the programs of `queryset` to `stream` (a text file or an HttpResponse)."""
    writer = csv.writer(stream)
    writer.writerow(EXPORT_COLUMNS)
    for program in queryset.select_related("institution", "specialty").prefetch_related("claims"):
        writer.writerow([escape_cell(v) for v in _row(program)])


def _row(program) -> list:
    claims = {c.requirement: c for c in program.claims.all()}
    observed = max((c.observed_on for c in claims.values()), default=program.observed_on)
    sources = sorted(claims.values(), key=lambda c: c.observed_on)
    return [
        program.nrmp_code or "",
        program.acgme_id,
        program.name,
        program.eras_name,
        program.nrmp_name,
        program.institution.name if program.institution else "",
        program.city,
        program.state,
        program.specialty.acgme_code if program.specialty else "",
        program.program_type,
        "" if program.positions is None else program.positions,
        *[to_cell(claims.get(requirement)) for requirement in CLAIM_EXPORT.values()],
        sources[-1].source_url if sources else program.source_url,
        observed.isoformat() if observed else "",
    ]
