"""What the season costs: application fees from the season's tiers (per service, the tier count restarting
for each specialty), the USMLE transcript and the NRMP fees, each line marked confirmed or projected with
its source; and what the applicant actually paid. Every amount comes from SeasonFee rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum

from milestones.models import Confidence

from .models import Application, Payment, SeasonFee, Status, StatusChange
from .pages import changes_pathway, of_applicant

NO_SPECIALTY = "Specialty not recorded"


@dataclass(frozen=True)
class FeeLine:
    label: str
    amount_usd: int | None  # None: the amount was not found
    status: str
    source_url: str
    note: str = ""
    service: str = ""
    count: int | None = None

    @property
    def projected(self) -> bool:
        return self.status != Confidence.CONFIRMED


@dataclass
class FeeEstimate:
    cycle_year: int
    lines: list[FeeLine] = field(default_factory=list)
    paid_usd: Decimal = Decimal(0)

    @property
    def total_usd(self) -> int:
        return sum(line.amount_usd or 0 for line in self.lines)

    @property
    def has_projected(self) -> bool:
        return any(line.projected for line in self.lines)

    @property
    def missing(self) -> list[FeeLine]:
        return [line for line in self.lines if line.amount_usd is None]


def tiered_fee(tiers: list[dict], count: int) -> int:
    """The fee for `count` programs of one specialty: each tier charges `fee_usd` per program in its range
    or a flat `fee_usd_total` once any program falls in it."""
    total = 0
    for tier in tiers:
        upper = tier.get("to") or count
        in_tier = max(0, min(count, upper) - tier["from"] + 1)
        if in_tier:
            total += tier["fee_usd_total"] if "fee_usd_total" in tier else in_tier * tier["fee_usd"]
    return total


def fee_row(cycle_year: int, key: str, service: str = "") -> SeasonFee | None:
    return SeasonFee.objects.filter(cycle_year=cycle_year, key=key, service=service).first()


def application_fees(*, cycle_year: int, service: str, counts: list[int]) -> int:
    """The application fees for programs in several specialties through one service (one count per
    specialty). Raises ValidationError when the season has no fee row for the service."""
    row = fee_row(cycle_year, SeasonFee.Key.APPLICATIONS, service)
    if row is None:
        raise ValidationError(f"No {service} fees are recorded for the {cycle_year} season.")
    return sum(tiered_fee(row.tiers, n) for n in counts)


def counted(applicant, cycle):
    """The applications that cost a fee: all on the list except those withdrawn before being sent."""
    sent = StatusChange.objects.filter(application=OuterRef("pk"), to_status=Status.APPLIED)
    return Application.objects.of(applicant, cycle).filter(~Q(status=Status.WITHDRAWN) | Exists(sent))


def estimate(*, applicant, cycle) -> FeeEstimate:
    """The season's fees for the list as it stands (5 queries, whatever its length)."""
    result = FeeEstimate(cycle_year=cycle.year)
    groups = counted(applicant, cycle).values("service", "program__specialty__name").annotate(n=Count("pk"))
    by_service: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for group in groups.order_by("service", "program__specialty__name"):
        by_service[group["service"]].append((group["program__specialty__name"] or NO_SPECIALTY, group["n"]))
    rows = {(r.key, r.service): r for r in SeasonFee.objects.filter(cycle_year=cycle.year)}
    for service, specialties in by_service.items():
        result.lines.extend(_application_lines(rows.get((SeasonFee.Key.APPLICATIONS, service)), service, specialties))
        result.lines.append(_flat_line(rows.get((SeasonFee.Key.TRANSCRIPT, service)), "USMLE transcript", service))
    if by_service:
        result.lines.extend(_nrmp_lines(rows, applicant, cycle))
    result.paid_usd = Payment.objects.filter(applicant=applicant, cycle=cycle).aggregate(s=Sum("amount_usd"))["s"] or 0
    return result


def _application_lines(row, service: str, specialties: list[tuple[str, int]]) -> list[FeeLine]:
    lines = []
    for name, n in specialties:
        amount = tiered_fee(row.tiers, n) if row else None
        lines.append(FeeLine(
            label=f"{service} applications: {name}", amount_usd=amount, count=n, service=service,
            status=row.status if row else Confidence.PROJECTED,
            source_url=row.source_url if row else "", note=row.note if row else "No fee row for this season.",
        ))
    return lines


def _flat_line(row, label: str, service: str = "", *, count: int | None = None, units: int = 1) -> FeeLine:
    if row is None:
        return FeeLine(label=label, amount_usd=None, status=Confidence.PROJECTED, source_url="", service=service,
                       note="Not recorded for this season.")
    amount = row.amount_usd * units if row.amount_usd is not None else None
    return FeeLine(label=label, amount_usd=amount, status=row.status, source_url=row.source_url,
                   note=row.note, service=service, count=count)


def _nrmp_lines(rows: dict, applicant, cycle) -> list[FeeLine]:
    registration = rows.get((SeasonFee.Key.NRMP_REGISTRATION, ""))
    lines = [_flat_line(registration, "NRMP registration")]
    ranked = Application.objects.of(applicant, cycle).filter(status__in=[Status.RANKED, Status.MATCHED]).count()
    free = registration.free_units if registration and registration.free_units is not None else None
    if free is not None and ranked > free:
        extra = ranked - free
        lines.append(_flat_line(rows.get((SeasonFee.Key.NRMP_EXTRA_CODE, "")),
                                f"NRMP extra program codes ({extra} beyond {free})", count=extra, units=extra))
    return lines


@transaction.atomic
@changes_pathway(of_applicant)
def record_payment(*, applicant, cycle, key: str, amount_usd: Decimal, paid_on: date, service: str = "",
                   note: str = "") -> Payment:
    """What the applicant actually paid for one of the season's fees."""
    if key not in SeasonFee.Key.values:
        raise ValidationError({"key": "Choose what the payment was for."})
    if amount_usd is None or amount_usd < 0:
        raise ValidationError({"amount_usd": "Enter the amount paid (0 or more)."})
    return Payment.objects.create(applicant=applicant, cycle=cycle, key=key, service=service,
                                  amount_usd=amount_usd, paid_on=paid_on, note=note.strip()[:500])
