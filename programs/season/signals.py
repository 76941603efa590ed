"""Program signals: gold/silver (or single-tier) within the season's allowance for the program's specialty
and application service (SeasonSignalAllowance rows). Over-allocation is refused under a row lock on the
applicant's applications of the cycle, so two tabs cannot both take the last signal. A signal to a
program whose recorded requirements the applicant fails, or that are unknown, comes with a warning."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from milestones.models import ApplicantProfile

from ..eligibility import Outcome, check_eligibility
from ..models import Program
from .models import Application, SeasonSignalAllowance, Signal
from .pages import changes_pathway, of_application


@dataclass
class SignalUse:
    """The signals of one specialty and service in a season: the allowance and what is used."""

    specialty: str
    service: str
    allowance: SeasonSignalAllowance | None
    gold: int = 0
    silver: int = 0
    single: int = 0

    @property
    def used(self) -> int:
        return self.gold + self.silver + self.single

    @property
    def left(self) -> int | None:
        return None if self.allowance is None else self.allowance.total - self.used


def allowance_for(application: Application) -> SeasonSignalAllowance | None:
    program = application.program
    if program.specialty_id is None:
        return None
    return SeasonSignalAllowance.objects.filter(
        cycle_year=application.cycle.year, service=application.service, specialty_id=program.specialty_id
    ).first()


@transaction.atomic
@changes_pathway(of_application)
def set_signal(*, application: Application, signal: str, by=None) -> tuple[Application, list[str]]:
    """Give (or clear, signal="") the application's signal. Returns (application, warnings)."""
    if signal not in Signal.values:
        raise ValidationError({"signal": "Choose gold, silver, a single-tier signal or none."})
    # Lock every application of the cycle (in one order) so concurrent signalling is serialised.
    siblings = list(
        Application.objects.select_for_update(of=("self",)).select_related("program__specialty", "cycle")
        .filter(applicant_id=application.applicant_id, cycle_id=application.cycle_id).order_by("pk")
    )
    application = next(a for a in siblings if a.pk == application.pk)
    if signal:
        allowance = allowance_for(application)
        _check_allowance(application, signal, allowance, siblings)
    application.signal = signal
    application.save(update_fields=["signal", "updated_at"])
    return application, (signal_warnings(application) if signal else [])


def _check_allowance(application, signal: str, allowance, siblings) -> None:
    specialty = application.program.specialty.name if application.program.specialty else "this program"
    if allowance is None:
        raise ValidationError({"signal": (
            f"The {application.cycle.year} season has no signals recorded for {specialty} through "
            f"{application.service}."
        )})
    if allowance.tiered and signal == Signal.SIGNAL:
        raise ValidationError({"signal": f"{specialty} uses gold and silver signals: choose one."})
    if not allowance.tiered and signal != Signal.SIGNAL:
        raise ValidationError({"signal": f"{specialty} has a single tier of signals (no gold or silver)."})
    same = [
        a for a in siblings
        if a.pk != application.pk and a.signal and a.service == application.service
        and a.program.specialty_id == application.program.specialty_id
    ]
    if len(same) + 1 > allowance.total:
        raise ValidationError({"signal": f"All {allowance.total} {specialty} signals are used: remove one first."})
    limit = {Signal.GOLD: allowance.gold, Signal.SILVER: allowance.silver}.get(signal)
    if limit is not None and sum(1 for a in same if a.signal == signal) + 1 > limit:
        raise ValidationError({"signal": f"All {limit} {signal} {specialty} signals are used: remove one first."})


def signal_warnings(application: Application) -> list[str]:
    """Why signalling this program may be wasted: requirements the applicant fails, or unknown ones."""
    profile = ApplicantProfile.objects.filter(user_id=application.applicant_id).first()
    if profile is None:
        return []
    program = Program.objects.with_claims().get(pk=application.program_id)
    verdict = check_eligibility(profile=profile, program=program)
    if verdict.outcome == Outcome.FAIL:
        return [f"You may not be eligible: {'; '.join(r.reason.rstrip('.') for r in verdict.failures)}."]
    if verdict.outcome == Outcome.UNKNOWN:
        names = ", ".join(r.label for r in verdict.unknowns)
        return [f"Check before signalling: these requirements are unknown: {names}."]
    return []


def signal_summary(*, applicant, cycle) -> list[SignalUse]:
    """One line per specialty and service on the list: its allowance (or none) and the signals used."""
    uses: dict[tuple, SignalUse] = {}
    applications = Application.objects.of(applicant, cycle).select_related("program__specialty")
    allowances = {
        (a.specialty_id, a.service): a
        for a in SeasonSignalAllowance.objects.filter(cycle_year=cycle.year).select_related("specialty")
    }
    for application in applications:
        specialty = application.program.specialty
        key = (specialty.pk if specialty else None, application.service)
        use = uses.setdefault(key, SignalUse(
            specialty=specialty.name if specialty else "Specialty not recorded", service=application.service,
            allowance=allowances.get(key),
        ))
        if application.signal == Signal.GOLD:
            use.gold += 1
        elif application.signal == Signal.SILVER:
            use.silver += 1
        elif application.signal == Signal.SIGNAL:
            use.single += 1
    return sorted(uses.values(), key=lambda u: (u.specialty, u.service))
