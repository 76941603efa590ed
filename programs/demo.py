"""About 60 clearly fictional programs for demos, screenshots and benchmarks.

Codes begin with 9999 (the institution code NRMP's own examples never use for a real institution here),
institutions are invented ("Fictional ..."), source URLs are on example.org (reserved for examples), and
the requirements vary so every outcome shows up. Loaded through the real importer, so loading twice
changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from .importer import REQUIRED_COLUMNS, import_programs
from .loader import load_specialties

DEMO_OBSERVED_ON = date(2026, 11, 2)
# (fictional institution, fictional city, state)
INSTITUTIONS = [
    ("Fictional Marigold Lantern Medical Center", "Lanternville", "NY"),
    ("Fictional Quillfeather Teaching Hospital", "Quillbrook", "TX"),
    ("Fictional Gryphon Harbor Health System", "Gryphon Harbor", "CA"),
    ("Fictional Bramblewick University Hospital", "Bramblewick", "OH"),
    ("Fictional Tidewhistle Regional Medical Center", "Tidewhistle", "FL"),
    ("Fictional Copperkettle Community Hospital", "Copperkettle", "MI"),
    ("Fictional Moonpetal Medical College Hospital", "Moonpetal", "IL"),
    ("Fictional Saltmarsh Lighthouse Hospital", "Saltmarsh", "PA"),
    ("Fictional Thistledown Health Alliance", "Thistledown", "GA"),
    ("Fictional Owlglass Memorial Hospital", "Owlglass", "NJ"),
]
# (ACGME code, short name, program type letter)
SPECIALTIES = [
    ("140", "Internal Medicine", "C"),
    ("120", "Family Medicine", "C"),
    ("320", "Pediatrics", "C"),
    ("400", "Psychiatry", "C"),
    ("180", "Neurology", "C"),
    ("440", "General Surgery", "C"),
    ("140", "Internal Medicine", "P"),
    ("300", "Pathology", "C"),
    ("220", "Obstetrics and Gynecology", "C"),
    ("999", "Transitional Year", "P"),
    ("420", "Diagnostic Radiology", "A"),
    ("700", "Internal Medicine-Pediatrics", "C"),
]
YES_NO = ["yes", "no", ""]
YEARS = ["5", "3", "", "none", "7", "10"]
STEP2 = ["230", "", "none", "240", "220", "250", "215"]
ATTEMPTS = ["1", "2", "none", ""]
USCE = ["3", "0", "", "6", "none", "12"]
ECFMG = ["none", "", "2027-02-24"]
STEP3 = ["no", "", "yes", "no", "no"]

# Every tenth program states everything and welcomes a J-1 or H-1B IMG; another sponsors only the H-1B and
# wants Step 3 before ranking (the example), so both verdicts show in the demo.
PROFILES = {
    0: {"visa_j1": "yes", "visa_h1b": "yes", "max_years_since_graduation": "5", "min_step2ck": "none",
        "max_attempts": "none", "usce_months_required": "0", "ecfmg_certificate_by": "none",
        "step3_before_ranking": "no"},
    5: {"visa_j1": "no", "visa_h1b": "yes", "step3_before_ranking": "yes"},
}


def demo_rows() -> list[dict]:
    rows, tracks = [], {}
    for index in range(60):
        name, city, state = INSTITUTIONS[index % len(INSTITUTIONS)]
        code, specialty, letter = SPECIALTIES[index % len(SPECIALTIES)]
        key = (code, letter)
        tracks[key] = tracks.get(key, -1) + 1
        short = name.removeprefix("Fictional ").split(" ")[0]
        rows.append({
            "program_code": f"9999{code}{letter}{tracks[key]}",
            "acgme_id": "",
            "name": f"{name} {specialty} Program (fictional)",
            "eras_name": f"{short} {specialty} Residency - Demo",
            "nrmp_name": f"{short.upper()} {specialty.upper()} (DEMO)",
            "institution": name,
            "city": city,
            "state": state,
            "specialty": code,
            "track": letter,
            "positions": str(4 + index % 9),
            "visa_j1": YES_NO[index % 3],
            "visa_h1b": YES_NO[(index // 3) % 3],
            "max_years_since_graduation": YEARS[index % len(YEARS)],
            "min_step2ck": STEP2[index % len(STEP2)],
            "max_attempts": ATTEMPTS[index % len(ATTEMPTS)],
            "usce_months_required": USCE[index % len(USCE)],
            "ecfmg_certificate_by": ECFMG[index % len(ECFMG)],
            "step3_before_ranking": STEP3[index % len(STEP3)],
            "notes": "Fictional program for the demo; nothing here describes a real program.",
            "source_url": f"https://example.org/fictional-programs/9999{code}{letter}{tracks[key]}",
            "observed_on": DEMO_OBSERVED_ON.isoformat(),
            "source_kind": "demo",
        })
        rows[-1].update(PROFILES.get(index % 10, {}))
    return rows


def demo_csv() -> str:
    rows = demo_rows()
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=[*REQUIRED_COLUMNS, "nrmp_name", "ecfmg_certificate_by", "notes",
                                               "source_kind"])
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()


def load_demo_programs():
    """Load (or re-load, changing nothing) the specialties and the fictional programs."""
    load_specialties()
    result = import_programs(text=demo_csv(), dry_run=False)
    if not result.ok:  # the demo file is ours: an error here is a bug, not bad input
        raise RuntimeError("; ".join(str(e) for e in result.errors))
    return result


def bulk_synthetic_programs(count: int, *, start: int = 0, observed_on: date = DEMO_OBSERVED_ON) -> int:
    """`count` fictional programs with the demo's varied claims, written in bulk (for query-count tests and
    the benchmark; no history rows). Codes start at institution 9999 and count down per 12,000 programs;
    `start` continues a set made earlier."""
    from .models import Institution, Origin, Program, RequirementClaim, Specialty
    from .requirements import SUMMARY_FIELDS, SourceKind, summary_value
    from .values import parse_value

    load_specialties()
    specialties = {s.acgme_code: s for s in Specialty.objects.all()}
    institution, _ = Institution.objects.get_or_create(name="Fictional Synthetic Hospital", state="NY")
    programs, templates = [], demo_rows()
    for index in range(start, start + count):
        code, _, letter = SPECIALTIES[index % len(SPECIALTIES)]
        block, track = divmod(index // len(SPECIALTIES), 1000)
        row = templates[index % len(templates)]
        copied = {}  # what RequirementClaim.save would copy onto the program (bulk_create skips save)
        for requirement, column in SUMMARY_FIELDS.items():
            value = parse_value(requirement, row[requirement])
            copied[column] = summary_value(requirement, value.state, value.value_bool, value.value_int,
                                           value.value_date)
        programs.append(Program(**copied,
            nrmp_code=f"{9999 - block}{code}{letter}{track}", program_type=letter, track=str(track),
            name=f"Fictional Synthetic Program {index}", institution=institution,
            state=INSTITUTIONS[index % len(INSTITUTIONS)][2], specialty=specialties[code], origin=Origin.DEMO,
        ))
    Program.objects.bulk_create(programs, batch_size=2000)
    claims = []
    for index, program in enumerate(programs, start):
        row = templates[index % len(templates)]
        for column in ("visa_j1", "visa_h1b", "max_years_since_graduation", "min_step2ck", "max_attempts",
                       "usce_months_required", "ecfmg_certificate_by", "step3_before_ranking"):
            value = parse_value(column, row[column])
            if value.state != "unknown":
                claims.append(RequirementClaim(program=program, requirement=column, source_kind=SourceKind.DEMO,
                                               observed_on=observed_on, **value.as_fields()))
    RequirementClaim.objects.bulk_create(claims, batch_size=5000)
    return count
