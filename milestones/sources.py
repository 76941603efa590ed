"""Whether a source is official or secondary, derived from its URL (audit D18-D22), never typed by hand.

The list of official domains is data (milestones/data/sources.yaml): an organisation's own site. A
third party quoting it, however faithfully, is secondary: applicants should be sent to the original.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

SOURCES_FILE = Path(__file__).resolve().parent / "data" / "sources.yaml"


@cache
def official_domains() -> tuple[str, ...]:
    with open(SOURCES_FILE, encoding="utf-8") as handle:
        return tuple((yaml.safe_load(handle) or {}).get("official_domains") or ())


def source_kind(url: str) -> str:
    """"official", "secondary", or "none" (no source given)."""
    host = (urlsplit(url or "").hostname or "").lower().rstrip(".")
    if not host:
        return "none"
    if any(host == domain or host.endswith(f".{domain}") for domain in official_domains()):
        return "official"
    return "secondary"
