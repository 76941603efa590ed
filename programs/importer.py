"""Import programs from a CSV file (the format is in the README, "Program directory").

All or nothing: every row is checked first, and one bad row imports nothing; the errors name the line
and the field. Idempotent: rows are keyed by program code, and a field or claim that already holds the
file's value is not saved again, so importing the same file twice changes nothing the second time (no
new claims, no new history rows). Each requirement cell becomes a claim carrying the row's source URL
and observation date (provenance per field). An empty requirement cell means "unknown" and leaves an
existing claim as it is; an older observation never overwrites a newer claim.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from .codes import US_STATE_CODES, ProgramType, normalize_nrmp_code, parse_nrmp_code
from .exporter import unescape_cell
from .loader import ensure_specialties
from .models import Institution, Origin, Program, RequirementClaim, Specialty
from .requirements import CSV_CLAIM_COLUMNS, SourceKind
from .services.claims import write_claim
from .values import parse_value

REQUIRED_COLUMNS = [
    "program_code", "acgme_id", "name", "eras_name", "institution", "city", "state", "specialty", "track",
    "positions", "visa_j1", "visa_h1b", "max_years_since_graduation", "min_step2ck", "max_attempts",
    "usce_months_required", "step3_before_ranking", "source_url", "observed_on",
]
OPTIONAL_COLUMNS = ["nrmp_name", "ecfmg_certificate_by", "notes", "source_kind"]
CLAIM_COLUMNS = CSV_CLAIM_COLUMNS
PROGRAM_FIELDS = ["acgme_id", "name", "eras_name", "nrmp_name", "city", "state", "positions"]
MAX_ROWS = 20_000
TYPE_WORDS = {label.split(" ")[0].lower(): value for value, label in ProgramType.choices} | {
    "primary": ProgramType.PRIMARY_CARE
}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self):
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass
class ImportResult:
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    claims_changed: int = 0
    claims_kept_newer: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run, "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "claims_changed": self.claims_changed,
            "claims_kept_newer": self.claims_kept_newer,
            "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in self.errors],
        }


@dataclass
class Row:
    line: int
    code: str
    specialty: Specialty
    observed_on: date
    source_kind: str
    cells: dict[str, str]
    values: dict = field(default_factory=dict)


def import_programs(*, text: str, dry_run: bool, by=None) -> ImportResult:
    """Check and (unless `dry_run`) apply a CSV. A dry run applies inside a transaction that is rolled
    back, so its counts are exactly what the real run would do."""
    result = ImportResult(dry_run=dry_run)
    ensure_specialties()
    rows = _read(text, result)
    if not result.ok:
        return result
    try:
        with transaction.atomic():
            institutions = {}
            for row in rows:
                _apply(row, by, result, institutions)
            if dry_run:
                transaction.set_rollback(True)
    except (ValidationError, DatabaseError) as error:
        # A check the row validation missed (the database refuses): still nothing is imported.
        result.errors.append(RowError(getattr(error, "line", 0), "row", "; ".join(_messages(error))))
        result.created = result.updated = result.unchanged = result.claims_changed = 0
    return result


def _messages(error) -> list[str]:
    return error.messages if isinstance(error, ValidationError) else [str(error).splitlines()[0]]


# --- Reading and checking ------------------------------------------------------------------------


def _read(text: str, result: ImportResult) -> list[Row]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        result.errors.append(RowError(1, "header", "The file is empty."))
        return []
    except csv.Error as error:
        result.errors.append(RowError(1, "header", f"Not a CSV file: {error}."))
        return []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        result.errors.append(RowError(1, "header", f"Missing column(s): {', '.join(missing)}."))
        return []
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        result.errors.append(RowError(1, "header", f"Unknown column(s): {', '.join(unknown)}."))
        return []
    return _rows(reader, header, result)


def _rows(reader, header: list[str], result: ImportResult) -> list[Row]:
    rows, seen, line = [], {}, 1
    specialties = {s.acgme_code: s for s in Specialty.objects.all()}
    by_name = {s.name.lower(): s for s in specialties.values()}
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            result.rows += 1
            if result.rows > MAX_ROWS:
                result.errors.append(RowError(start, "row", f"More than {MAX_ROWS} rows: split the file."))
                break
            if len(cells) != len(header):
                result.errors.append(RowError(start, "row", f"{len(cells)} cells, the header has {len(header)}."))
                continue
            row = _check_row(start, dict(zip(header, (unescape_cell(c.strip()) for c in cells), strict=True)),
                             specialties, by_name, result)
            if row is not None and row.code in seen:
                result.errors.append(RowError(start, "program_code", f"{row.code} is also on line {seen[row.code]}."))
            elif row is not None:
                seen[row.code] = start
                rows.append(row)
    except csv.Error as error:
        result.errors.append(RowError(line + 1, "row", f"Unreadable CSV: {error}."))
    if result.rows == 0 and result.ok:
        result.errors.append(RowError(2, "row", "The file has a header but no programs."))
    return rows


def _check_row(line, cells, specialties, by_name, result) -> Row | None:
    errors = []

    def fail(column, message):
        errors.append(RowError(line, column, message))

    code = _check_code(cells, fail)
    specialty = _check_specialty(cells, code, specialties, by_name, fail)
    _check_track(cells, code, fail)
    observed_on = _check_date(cells, fail)
    _check_program_fields(cells, fail)
    source_kind = (cells.get("source_kind") or SourceKind.IMPORT).strip()
    if source_kind not in SourceKind.values:
        fail("source_kind", f"{source_kind!r} is not one of {', '.join(SourceKind.values)}.")
    values = {}
    for column, requirement in CLAIM_COLUMNS.items():
        try:
            values[requirement] = parse_value(requirement, cells.get(column, ""))
        except ValidationError as error:
            fail(column, " ".join(error.messages))
    result.errors.extend(errors)
    if errors:
        return None
    return Row(line, code.code, specialty, observed_on, source_kind, cells, values)


def _check_code(cells, fail):
    try:
        return parse_nrmp_code(cells["program_code"])
    except ValidationError as error:
        fail("program_code", " ".join(error.messages))
        return None


def _check_specialty(cells, code, specialties, by_name, fail):
    text = cells["specialty"]
    specialty = specialties.get(text) or by_name.get(text.lower()) if text else None
    if specialty is None and code is not None and not text:
        specialty = specialties.get(code.specialty_code)
    if specialty is None:
        fail("specialty", f"{text!r} is not a known specialty (an ACGME code like 140, or its name).")
    elif code is not None and code.specialty_code != specialty.acgme_code:
        fail("specialty", f"{specialty} does not match the code's specialty digits {code.specialty_code}.")
    return specialty


def _check_track(cells, code, fail):
    text = cells["track"].strip()
    if not text or code is None:
        return
    letter = text.upper() if len(text) == 1 else TYPE_WORDS.get(text.split(" ")[0].lower())
    if letter != code.program_type:
        fail("track", f"{text!r} does not match the code's program type {code.program_type}.")


def _check_date(cells, fail) -> date | None:
    try:
        observed = date.fromisoformat(cells["observed_on"])
    except ValueError:
        fail("observed_on", f"{cells['observed_on']!r} is not a date like 2026-11-30.")
        return None
    if observed > date.today():
        fail("observed_on", f"{observed} is in the future.")
    return observed


def _check_program_fields(cells, fail):
    """The same checks the models make (lengths, URL, digits), as row errors, before anything is saved:
    PostgreSQL refuses a value longer than its column where SQLite would store it."""
    state = cells["state"].upper()
    if state and state not in US_STATE_CODES:
        fail("state", f"{cells['state']!r} is not a US state code (e.g. NY).")
    positions = cells["positions"]
    if positions and not (positions.isdigit() and int(positions) <= 500):
        fail("positions", f"{positions!r} is not a number of positions (0-500).")
    if not cells["name"]:
        fail("name", "Every program needs a name.")
    if not cells["institution"]:
        fail("institution", "Give the sponsoring institution's name.")
    candidate = Program(**_program_values(cells), nrmp_code=None)
    try:
        candidate.clean_fields(exclude=["nrmp_code", "institution", "specialty", "added_by", "state", "positions"])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            fail(name, " ".join(messages))
    for name, limit in (("institution", 200), ("city", 100)):
        if len(cells[name]) > limit:
            fail(name, f"Longer than {limit} characters.")


def _program_values(cells) -> dict:
    positions = cells["positions"]
    return {
        "acgme_id": cells["acgme_id"],
        "name": cells["name"],
        "eras_name": cells["eras_name"],
        "nrmp_name": cells.get("nrmp_name", ""),
        "city": cells["city"],
        "state": cells["state"].upper(),
        "positions": int(positions) if positions.isdigit() else None,
        "source_url": cells["source_url"],
    }


# --- Applying ---------------------------------------------------------------------------------------


def _apply(row: Row, by, result: ImportResult, institutions: dict) -> None:
    try:
        program, status = _save_program(row, by, institutions)
        setattr(result, status, getattr(result, status) + 1)
        _save_claims(program, row, by, result)
    except ValidationError as error:
        error.line = row.line
        raise


def _institution(row: Row, cache: dict) -> Institution:
    cells = row.cells
    key = (cells["institution"], cells["state"].upper())
    if key not in cache:
        cache[key], _ = Institution.objects.get_or_create(
            name=key[0], state=key[1], defaults={"city": cells["city"], "nrmp_code": row.code[:4]}
        )
    return cache[key]


def _save_program(row: Row, by, institutions: dict) -> tuple[Program, str]:
    values = {
        **_program_values(row.cells),
        "institution_id": _institution(row, institutions).pk,
        "specialty_id": row.specialty.pk,
        "observed_on": row.observed_on,
        "listed": True,
    }
    program = Program.objects.select_for_update().filter(nrmp_code=row.code).first()
    if program is not None and all(getattr(program, k) == v for k, v in values.items()):
        return program, "unchanged"
    status = "updated" if program else "created"
    origin = Origin.DEMO if row.source_kind == SourceKind.DEMO else Origin.IMPORT
    program = program or Program(nrmp_code=normalize_nrmp_code(row.code), origin=origin, added_by=by)
    for name, value in values.items():
        setattr(program, name, value)
    if by is not None:
        program._history_user = by
    program.save()
    return program, status


def _save_claims(program: Program, row: Row, by, result: ImportResult) -> None:
    current = {c.requirement: c for c in RequirementClaim.objects.select_for_update().filter(program=program)}
    for requirement, value in row.values.items():
        if value.state == "unknown":
            continue
        claim = current.get(requirement)
        if claim is not None and claim.observed_on > row.observed_on:
            result.claims_kept_newer += 1
            continue
        _, changed = write_claim(
            program=program, requirement=requirement, value=value, source_url=row.cells["source_url"],
            source_kind=row.source_kind, observed_on=row.observed_on, by=by, verified=False, note="",
            current=claim,
        )
        result.claims_changed += changed
