"""Loads the season's rules (fees, limits, signal allowances) from programs/data/season.yaml. Idempotent:
rows are matched on their natural keys and updated in place."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from ..loader import load_specialties
from ..models import Specialty
from .models import SeasonFee, SeasonLimit, SeasonSignalAllowance

SEASON_FILE = Path(__file__).resolve().parent.parent / "data" / "season.yaml"


@transaction.atomic
def load_season_rules(path: Path = SEASON_FILE) -> int:
    """Create or update every row of the file; returns how many rows were written."""
    data = yaml.safe_load(path.read_text())
    if not Specialty.objects.exists():
        load_specialties()
    written = 0
    for row in data["fees"]:
        SeasonFee.objects.update_or_create(
            cycle_year=row["cycle"], key=row["key"], service=row.get("service", ""),
            defaults={
                "amount_usd": row.get("amount_usd"), "tiers": row.get("tiers", []),
                "free_units": row.get("free_units"), "status": row["status"], "source_url": row["source_url"],
                "last_verified": row.get("last_verified"), "note": row.get("note", ""),
            },
        )
        written += 1
    for row in data["limits"]:
        SeasonLimit.objects.update_or_create(
            cycle_year=row["cycle"], key=row["key"],
            defaults={"value": row["value"], "status": row["status"], "source_url": row["source_url"],
                      "last_verified": row.get("last_verified"), "note": row.get("note", "")},
        )
        written += 1
    return written + _load_signals(data)


def _load_signals(data: dict) -> int:
    specialties = {s.acgme_code: s for s in Specialty.objects.all()}
    written = 0
    for season in data["signal_seasons"]:
        for row in data["signals"]:
            SeasonSignalAllowance.objects.update_or_create(
                cycle_year=season["cycle"], service=row.get("service", "ERAS"), specialty=specialties[row["code"]],
                defaults={"gold": row.get("gold"), "silver": row.get("silver"), "total": row["total"],
                          "status": season["status"], "source_url": row.get("source_url", data["signal_source"]),
                          "last_verified": season.get("last_verified"), "note": row.get("note", "")},
            )
            written += 1
    return written
