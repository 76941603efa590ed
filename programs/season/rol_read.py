"""What the rank order list page and the API show, read in a constant number of queries however many ranks:
the lists with their programs and interview scores, the programs that could still be ranked, the NRMP's
limit and extra-rank fee (data rows), the contiguous ranks in the preferred specialty beside the NRMP's
published median, and the certification state with its deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from milestones.models import MatchCycle

from ..codes import ProgramType
from .interviews import scores_for
from .match_models import ContiguousRankMedian, Rank, RankList, RankOrderList
from .match_rules import (
    RANKING_OPEN,
    ROL_DEADLINE,
    Figure,
    cycle_times,
    median_for,
    rank_fees,
    shown_limit,
)
from .models import Application, SeasonLimit
from .models import Status as AppStatus


@dataclass
class Row:
    rank: int
    application: Application
    score: object = None  # programs.season.interviews.ProgramScore, or None when not scored


@dataclass
class ListView:
    rank_list: RankList | None
    rows: list[Row]
    advanced: list[Application] = field(default_factory=list)
    candidates: list[Application] = field(default_factory=list)

    @property
    def pk(self):
        return self.rank_list.pk if self.rank_list else None

    @property
    def name(self) -> str:
        return str(self.rank_list) if self.rank_list else "Primary list"


@dataclass
class Overview:
    cycle: MatchCycle
    rol: RankOrderList | None
    primary: ListView
    supplemental: list[ListView]
    limit: Figure | None
    free_codes: int | None
    per_extra_code: Figure | None
    primary_codes: int
    supplemental_codes: int
    extra_cost: int | None
    preferred_specialty: str
    contiguous: int
    median: ContiguousRankMedian | None
    ranking_opens: object
    deadline: object
    now: datetime
    advanced_on_primary: list[Application]

    @property
    def version(self) -> int:
        return self.rol.version if self.rol else 0

    @property
    def certified(self) -> bool:
        return bool(self.rol and self.rol.is_certified)

    @property
    def changed_since_certifying(self) -> bool:
        return bool(self.rol and not self.rol.is_certified and self.rol.history.filter(
            certified_at__isnull=False).exists())

    @property
    def past_deadline(self) -> bool:
        return bool(self.deadline and self.now > self.deadline.at)

    @property
    def extra_codes(self) -> int:
        if self.free_codes is None:
            return 0
        return max(0, self.primary_codes - self.free_codes) + max(0, self.supplemental_codes - self.free_codes)


def _lists(rol: RankOrderList | None) -> list[RankList]:
    if rol is None:
        return []
    ranks = Rank.objects.select_related("application__program__specialty", "application__program__institution")
    return list(
        RankList.objects.filter(rol=rol)
        .prefetch_related(Prefetch("ranks", queryset=ranks.order_by("rank")), "advanced__program")
        .order_by("kind", "created_at", "pk")
    )


def overview(*, applicant, cycle: MatchCycle, profile=None) -> Overview:
    rol = RankOrderList.objects.filter(applicant=applicant, cycle=cycle).first()
    lists = _lists(rol)
    scores = scores_for(applicant=applicant, cycle=cycle)
    candidates = list(
        Application.objects.of(applicant, cycle).with_related().exclude(status=AppStatus.WITHDRAWN)
        .order_by("program__name", "pk")
    )
    views = [_view(rank_list, scores) for rank_list in lists]
    primary = next((v for v in views if v.rank_list.is_primary), None) or ListView(None, [])
    supplemental = [v for v in views if not v.rank_list.is_primary]
    on_primary = {row.application.pk for row in primary.rows}
    primary.candidates = [a for a in candidates if a.pk not in on_primary]
    for view in supplemental:
        taken = {row.application.pk for row in view.rows}
        view.candidates = [a for a in candidates if a.pk not in taken and a.program.program_type == ProgramType.PRELIMINARY]
    for application in candidates:  # the score column of the "could rank" table
        application.rol_score = scores.get(application.pk)
    return _overview(applicant, cycle, rol, primary, supplemental, profile)


def _view(rank_list: RankList, scores) -> ListView:
    rows = [Row(rank.rank, rank.application, scores.get(rank.application_id)) for rank in rank_list.ranks.all()]
    return ListView(rank_list, rows, advanced=list(rank_list.advanced.all()))


def _overview(applicant, cycle, rol, primary: ListView, supplemental: list[ListView], profile) -> Overview:
    fees = rank_fees(cycle.year)
    primary_codes = len({row.application.program_id for row in primary.rows})
    supplemental_codes = len({row.application.program_id for view in supplemental for row in view.rows})
    profile = profile or getattr(applicant, "profile", None)
    preferred, contiguous, specialty = contiguous_ranks(primary.rows, profile)
    times = cycle_times(cycle)
    return Overview(
        cycle=cycle, rol=rol, primary=primary, supplemental=supplemental,
        limit=shown_limit(cycle.year, SeasonLimit.Key.ROL_RANKS),
        free_codes=fees.free_codes, per_extra_code=fees.per_extra_code,
        primary_codes=primary_codes, supplemental_codes=supplemental_codes,
        extra_cost=fees.extra_cost(primary_codes, supplemental_codes),
        preferred_specialty=preferred, contiguous=contiguous,
        median=median_for(report_before=cycle.year, applicant_type=profile.applicant_type, specialty=specialty)
        if profile else None,
        ranking_opens=times.get(RANKING_OPEN), deadline=times.get(ROL_DEADLINE), now=timezone.now(),
        advanced_on_primary=[row.application for row in primary.rows
                             if row.application.program.program_type == ProgramType.ADVANCED],
    )


def contiguous_ranks(rows: list[Row], profile) -> tuple[str, int, object]:
    """(preferred specialty, how many ranks from the top are in it, its Specialty row): the NRMP's
    "contiguous ranks in the preferred specialty". The preferred specialty is the applicant's first
    chosen specialty, else the specialty of their first rank."""
    chosen = (profile.specialties or [""])[0] if profile else ""
    first = rows[0].application.program.specialty if rows else None
    preferred = chosen or (first.name if first else "")
    count, specialty = 0, None
    for row in rows:
        own = row.application.program.specialty
        if own is None or own.name.lower() != preferred.lower():
            break
        count, specialty = count + 1, own
    return preferred, count, specialty
