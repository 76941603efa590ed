"""SOAP: an unmatched or partially matched, SOAP-eligible applicant's applications (at most the season's
limit, enforced under a row lock on the Match Week outcome), the offers programs make in the cycle's timed
rounds, and accepting one, which is binding: it records the match and closes the Match milestones.

Sent SOAP applications cannot be taken back (the application services count every one), so there is no
"remove": the limit cannot be dodged.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from milestones.models import MatchCycle

from ..models import Program
from .match import close_match, locked_outcome
from .match_models import MatchOutcome, SoapApplication, SoapOffer
from .match_rules import (
    SOAP_END,
    STATUS_RELEASE,
    SoapRound,
    cycle_times,
    et_label,
    event_at,
    season_limit,
    shown_limit,
    soap_rounds,
)
from .models import SeasonLimit
from .pages import changes_pathway, of_applicant


def soap_limit(cycle: MatchCycle):
    return season_limit(cycle.year, SeasonLimit.Key.SOAP_APPLICATIONS)


def shown_soap_limit(cycle: MatchCycle):
    """For pages: the limit, or None when none is recorded."""
    return shown_limit(cycle.year, SeasonLimit.Key.SOAP_APPLICATIONS)


def _in_soap(applicant, cycle: MatchCycle) -> MatchOutcome:
    outcome = locked_outcome(applicant, cycle)
    if outcome is None:
        raise ValidationError("Record your Match Week status first: SOAP is for applicants who did not match.")
    if outcome.matched_program_id:
        raise ValidationError(f"You have matched ({outcome.matched_program.name}): SOAP is over for you.")
    if not outcome.in_soap:
        raise ValidationError("SOAP is only for unmatched or partially matched applicants the NRMP shows as "
                              "SOAP-eligible.")
    return outcome


def _check_soap_open(cycle: MatchCycle) -> None:
    times = cycle_times(cycle)
    opens, ends = event_at(times, STATUS_RELEASE, cycle), event_at(times, SOAP_END, cycle)
    now = timezone.now()
    if now < opens:
        raise ValidationError(f"SOAP opens with the Match status release on {et_label(opens)}.")
    if now > ends:
        raise ValidationError(f"SOAP ended on {et_label(ends)}.")


@transaction.atomic
@changes_pathway(of_applicant)
def add_soap_application(*, applicant, cycle: MatchCycle, program_id: int, by) -> SoapApplication:
    """Apply to one program in SOAP (a program of the directory the applicant can see)."""
    outcome = _in_soap(applicant, cycle)
    _check_soap_open(cycle)
    program = Program.objects.visible_to(applicant).filter(pk=program_id).first()
    if program is None:
        raise ValidationError({"program": "Choose a program from the directory."})
    if outcome.soap_applications.filter(program=program).exists():
        raise ValidationError({"program": f"You have already applied to {program.name} in SOAP."})
    limit = soap_limit(cycle)
    sent = outcome.soap_applications.count()
    if sent >= limit.value:
        raise ValidationError({"program": (
            f"SOAP allows at most {limit.value} applications ({cycle}); you have sent {sent}."
        )}, code="limit")
    return SoapApplication.objects.create(outcome=outcome, program=program)


@dataclass(frozen=True)
class RoundNow:
    current: SoapRound | None
    next: SoapRound | None
    rounds: list[SoapRound]


def round_now(cycle: MatchCycle, now=None) -> RoundNow:
    now = now or timezone.now()
    rounds = soap_rounds(cycle_times(cycle), cycle)
    current = next((r for r in rounds if r.opens_at <= now < r.closes_at), None)
    upcoming = next((r for r in rounds if r.opens_at > now), None)
    return RoundNow(current, upcoming, rounds)


@transaction.atomic
@changes_pathway(of_applicant)
def record_offer(*, applicant, cycle: MatchCycle, application_id: int, by) -> SoapOffer:
    """An offer a program made through the NRMP in the round open now; it lapses when the round closes."""
    outcome = _in_soap(applicant, cycle)
    application = outcome.soap_applications.select_related("program").filter(pk=application_id).first()
    if application is None:
        raise ValidationError({"application": "Offers come only from programs you applied to in SOAP."})
    timing = round_now(cycle)
    if timing.current is None:
        when = f"the next round opens on {et_label(timing.next.opens_at)}" if timing.next else "SOAP's rounds are over"
        raise ValidationError({"application": f"Offers are made in timed rounds only: {when}."})
    if application.offers.filter(round=timing.current.number).exists():
        raise ValidationError({"application": f"The offer from {application.program.name} in round "
                                              f"{timing.current.number} is recorded already."})
    return SoapOffer.objects.create(outcome=outcome, application=application, round=timing.current.number,
                                    expires_at=timing.current.closes_at)


@transaction.atomic
@changes_pathway(of_applicant)
def answer_offer(*, applicant, cycle: MatchCycle, offer_id: int, accept: bool, by) -> SoapOffer:
    """Accept (binding: the match is recorded, every other open offer lapses) or decline an open offer."""
    outcome = locked_outcome(applicant, cycle)
    offer = (
        SoapOffer.objects.select_related("application__program").filter(outcome=outcome, pk=offer_id).first()
        if outcome is not None else None
    )
    if offer is None:
        raise ValidationError({"offer": "No such offer."})
    if offer.status == SoapOffer.Status.ACCEPTED and accept:
        return offer  # a double submit
    if offer.status != SoapOffer.Status.OPEN:
        raise ValidationError({"offer": f"This offer is {offer.get_status_display().lower()}: it cannot be answered."})
    if outcome.matched_program_id:
        raise ValidationError({"offer": f"You accepted an offer from {outcome.matched_program.name}: it is binding."})
    now = timezone.now()
    if now >= offer.expires_at:
        raise ValidationError({"offer": f"This offer lapsed at {et_label(offer.expires_at)}."})
    offer.status = SoapOffer.Status.ACCEPTED if accept else SoapOffer.Status.DECLINED
    offer.answered_at = now
    offer.save(update_fields=["status", "answered_at"])
    if accept:
        outcome.soap_offers.filter(status=SoapOffer.Status.OPEN).update(status=SoapOffer.Status.LAPSED, answered_at=now)
        close_match(outcome, program=offer.application.program, via=MatchOutcome.Via.SOAP, by=by)
    return offer
