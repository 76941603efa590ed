"""The Match's rules part B reads: the NRMP limits and fees (part A's SeasonLimit / SeasonFee rows), the
cycle's dated events, and the cited contiguous-rank medians (loaded here from programs/data/match_rules.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from milestones.models import Confidence, CycleEvent, MatchCycle
from pathway.lib.times import ET

from ..loader import ensure_specialties
from ..models import Specialty
from . import letters
from .match_models import ContiguousRankMedian
from .models import SeasonFee

MATCH_RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "match_rules.yaml"

# Event keys of the cycle part B is timed by (milestones/data/cycles.yaml).
RANKING_OPEN = "nrmp_ranking_open"
ROL_DEADLINE = "nrmp_rol_deadline"
STATUS_RELEASE = "match_status_release"
SOAP_END = "soap_end"
MATCH_DAY = "match_day"
# Round 1 opens at soap_offer_rounds; later rounds at soap_round_2, soap_round_3...
FIRST_ROUND = "soap_offer_rounds"
ROUND_PREFIX = "soap_round_"


@transaction.atomic
def load_match_rules(path: Path = MATCH_RULES_FILE) -> int:
    """Create or update the medians of the file (matched on report year, group and specialty)."""
    data = yaml.safe_load(path.read_text())
    ensure_specialties()
    written = 0
    for row in data["contiguous_rank_medians"]:
        specialty = Specialty.objects.get(acgme_code=row["specialty"]) if row.get("specialty") else None
        ContiguousRankMedian.objects.update_or_create(
            report_year=row["report_year"], applicant_type=row["applicant_type"], specialty=specialty,
            defaults={
                "matched_median": row["matched_median"], "unmatched_median": row.get("unmatched_median"),
                "report_title": row["report_title"], "status": row["status"], "source_url": row["source_url"],
                "last_verified": row.get("last_verified"), "note": row.get("note", ""),
            },
        )
        written += 1
    return written


@dataclass(frozen=True)
class Figure:
    """A rule value as the pages show it: the number, and where it comes from."""

    value: int | None
    status: str
    source_url: str
    note: str = ""

    @property
    def projected(self) -> bool:
        return self.status == Confidence.PROJECTED

    @property
    def status_label(self) -> str:
        return Confidence(self.status).label if self.status else ""


def season_limit(cycle_year: int, key: str) -> Figure:
    """A limit of the season (or the latest earlier season's row standing in for it, as part A reads it);
    refused (ValidationError) when none is recorded: a write is never checked against a guess."""
    row = letters.season_limit(cycle_year, key)
    return Figure(row.value, row.status, row.source_url, row.note)


def shown_limit(cycle_year: int, key: str) -> Figure | None:
    """The limit for a page to show; None when none is recorded (the page says so)."""
    try:
        return season_limit(cycle_year, key)
    except ValidationError:
        return None


@dataclass(frozen=True)
class RankFees:
    """The NRMP's fee for program codes past those the registration covers (None: amounts not known)."""

    free_codes: int | None
    per_extra_code: Figure | None

    def extra_cost(self, primary_codes: int, supplemental_codes: int) -> int | None:
        if self.free_codes is None or self.per_extra_code is None or self.per_extra_code.value is None:
            return None
        extra = max(0, primary_codes - self.free_codes) + max(0, supplemental_codes - self.free_codes)
        return extra * self.per_extra_code.value


def rank_fees(cycle_year: int) -> RankFees:
    rows = {row.key: row for row in SeasonFee.objects.filter(
        cycle_year=cycle_year, key__in=[SeasonFee.Key.NRMP_REGISTRATION, SeasonFee.Key.NRMP_EXTRA_CODE]
    )}
    registration = rows.get(SeasonFee.Key.NRMP_REGISTRATION)
    extra = rows.get(SeasonFee.Key.NRMP_EXTRA_CODE)
    return RankFees(
        free_codes=registration.free_units if registration else None,
        per_extra_code=Figure(extra.amount_usd, extra.status, extra.source_url, extra.note) if extra else None,
    )


def median_for(*, report_before: int, applicant_type: str, specialty: Specialty | None):
    """The latest published median for the group (the specialty's own if stored, else all specialties)."""
    rows = ContiguousRankMedian.objects.filter(report_year__lte=report_before, applicant_type=applicant_type)
    if specialty is not None:
        own = rows.filter(specialty=specialty).order_by("-report_year").first()
        if own is not None:
            return own
    return rows.filter(specialty__isnull=True).order_by("-report_year").first()


# --- The cycle's events ----------------------------------------------------------------------------


def cycle_times(cycle: MatchCycle) -> dict[str, CycleEvent]:
    """The cycle's events part B uses, by key (one query)."""
    keys_wanted = (RANKING_OPEN, ROL_DEADLINE, STATUS_RELEASE, SOAP_END, MATCH_DAY, FIRST_ROUND)
    events = CycleEvent.objects.filter(cycle=cycle).order_by("at")
    return {e.key: e for e in events if e.key in keys_wanted or e.key.startswith(ROUND_PREFIX)}


def event_at(times: dict[str, CycleEvent], key: str, cycle: MatchCycle) -> datetime:
    event = times.get(key)
    if event is None:
        raise ValidationError(f"The {cycle} has no '{key}' date yet; an administrator must add it.")
    return event.at


@dataclass(frozen=True)
class SoapRound:
    number: int
    opens_at: datetime
    closes_at: datetime  # when the next round opens, or SOAP ends
    projected: bool


def soap_rounds(times: dict[str, CycleEvent], cycle: MatchCycle) -> list[SoapRound]:
    """The offer rounds of the cycle, from its events: round 1 at soap_offer_rounds, round n at soap_round_n.
    A round's offers stay answerable here until the next round opens (the NRMP's own window is shorter)."""
    opens = {}
    if FIRST_ROUND in times:
        opens[1] = times[FIRST_ROUND]
    for key, event in times.items():
        suffix = key.removeprefix(ROUND_PREFIX)
        if key.startswith(ROUND_PREFIX) and suffix.isdigit():
            opens[int(suffix)] = event
    end = event_at(times, SOAP_END, cycle)
    numbers = sorted(opens)
    rounds = []
    for index, number in enumerate(numbers):
        closes = opens[numbers[index + 1]].at if index + 1 < len(numbers) else end
        rounds.append(SoapRound(number, opens[number].at, closes, opens[number].projected))
    return rounds


def et_label(moment: datetime) -> str:
    """'Thu 18 Mar 2027, 9:00 AM ET': how refusals name a Match time."""
    return f"{moment.astimezone(ET):%a %-d %b %Y, %-I:%M %p} ET"
