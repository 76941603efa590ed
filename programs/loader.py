"""Loads the specialty table from programs/data/specialties.yaml (idempotent: unchanged rows are not saved)."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from .models import Service, Specialty

SPECIALTIES_FILE = Path(__file__).resolve().parent / "data" / "specialties.yaml"


@transaction.atomic
def load_specialties(path: Path = SPECIALTIES_FILE) -> int:
    """Create or update the specialties from the YAML file; returns how many rows changed."""
    data = yaml.safe_load(path.read_text())
    defaults, changed = data["defaults"], 0
    for row in data["specialties"]:
        service = row.get("service", Service.ERAS)
        values = {
            "name": row["name"],
            "application_service": service,
            "service_since_cycle": row.get("since"),
            "status": row.get("status", defaults["status"]),
            "source_url": row.get("source_url", defaults["source_url"]),
            "service_source_url": data["residencycas_source"] if service == Service.RESIDENCYCAS else "",
            "last_verified": row.get("last_verified", defaults["last_verified"]),
        }
        specialty = Specialty.objects.filter(acgme_code=row["code"]).first()
        if specialty is not None and all(getattr(specialty, k) == v for k, v in values.items()):
            continue
        specialty = specialty or Specialty(acgme_code=row["code"])
        for name, value in values.items():
            setattr(specialty, name, value)
        specialty.full_clean()
        specialty.save()
        changed += 1
    return changed


def ensure_specialties() -> None:
    """Load the table when it is empty (a fresh deployment importing its first file)."""
    if not Specialty.objects.exists():
        load_specialties()
