"""Match Week: the applicant records what the NRMP told them on the Monday (matched, partially matched,
unmatched), and later where they matched. The engine's status service moves the Match milestones along:
Match Week done on the Monday; SOAP under way for an unmatched or partially matched, SOAP-eligible
applicant (waived otherwise); on a match, the Match Day result done, SOAP closed and the contract step
started, so the pathway moves on to contract, licence, visa and residency start.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from milestones.models import MatchCycle, Milestone
from milestones.services import CLOSED, PrerequisiteMissing, add_document, set_status

from .applications import set_status as set_application_status
from .match_models import MatchOutcome
from .match_rules import MATCH_DAY, STATUS_RELEASE, cycle_times, et_label, event_at
from .models import Application
from .models import Status as AppStatus
from .pages import changes_pathway, of_applicant

MilestoneStatus = Milestone.Status
Outcome = MatchOutcome.Status
MATCH_MILESTONES = ("match_week", "soap", "match_result", "contract_onboarding")


def outcome_of(applicant, cycle: MatchCycle) -> MatchOutcome | None:
    return MatchOutcome.objects.select_related("matched_program").filter(applicant=applicant, cycle=cycle).first()


def locked_outcome(applicant, cycle: MatchCycle) -> MatchOutcome | None:
    return MatchOutcome.objects.select_for_update().filter(applicant=applicant, cycle=cycle).first()


def _milestones(applicant, cycle: MatchCycle) -> dict[str, Milestone]:
    """The Match milestones of the applicant's pathway, when `cycle` is their target Match."""
    rows = Milestone.objects.of_applicant(applicant).filter(
        template__key__in=MATCH_MILESTONES, applicant__profile__target_cycle=cycle
    )
    return {m.template.key: m for m in rows}


def _move(milestone: Milestone | None, status: str, *, by, reason: str = "") -> None:
    if milestone is None or milestone.status == status:
        return
    set_status(milestone=milestone, status=status, by=by, reason=reason)
    milestone.status = status


@transaction.atomic
@changes_pathway(of_applicant)
def record_match_status(*, applicant, cycle: MatchCycle, status: str, soap_eligible: bool = True, by) -> MatchOutcome:
    """What the NRMP showed on the Monday of Match Week (from its 10 a.m. ET release on). It can be
    corrected until SOAP applications are sent or a match is recorded."""
    if status not in Outcome.values:
        raise ValidationError({"status": f"Choose one of: {', '.join(Outcome.labels)}."})
    released = event_at(cycle_times(cycle), STATUS_RELEASE, cycle)
    if timezone.now() < released:
        raise ValidationError({"status": f"The NRMP releases Match status on {et_label(released)}."})
    outcome = locked_outcome(applicant, cycle)
    if outcome is not None and (outcome.matched_program_id or outcome.soap_applications.exists()):
        if (outcome.status, outcome.soap_eligible) == (status, soap_eligible):
            return outcome  # a double submit
        raise ValidationError({"status": "Your Match Week status is settled: SOAP applications or a match are "
                                         "recorded against it."})
    outcome = outcome or MatchOutcome(applicant=applicant, cycle=cycle)
    outcome.status, outcome.soap_eligible, outcome.recorded_at = status, soap_eligible, timezone.now()
    outcome.save()
    _after_status(outcome, by=by)
    return outcome


def _after_status(outcome: MatchOutcome, *, by) -> None:
    milestones = _milestones(outcome.applicant, outcome.cycle)
    try:
        _move(milestones.get("match_week"), MilestoneStatus.DONE, by=by)
    except PrerequisiteMissing as exc:
        raise ValidationError({"status": f"{exc.messages[0]} (a Match status needs a certified list)."}) from None
    soap = milestones.get("soap")
    if outcome.status == Outcome.MATCHED:
        _move(soap, MilestoneStatus.WAIVED, by=by, reason="Matched in the Main Residency Match: SOAP not needed.")
    elif outcome.soap_eligible:
        _move(soap, MilestoneStatus.IN_PROGRESS, by=by)
    else:
        _move(soap, MilestoneStatus.WAIVED, by=by, reason="Not SOAP-eligible according to the NRMP.")


@transaction.atomic
@changes_pathway(of_applicant)
def record_matched_program(*, applicant, cycle: MatchCycle, application_id: int, by) -> MatchOutcome:
    """Where a matched applicant matched (revealed on Match Day, at noon ET): one of their programs."""
    outcome = locked_outcome(applicant, cycle)
    if outcome is None or outcome.status == Outcome.UNMATCHED:
        raise ValidationError({"application": "Record that you matched (Match Week status) first."})
    if outcome.status == Outcome.PARTIALLY_MATCHED and outcome.soap_eligible:
        # The advanced position is known; the PGY-1 year is what SOAP is for: its accepted offer closes the Match.
        raise ValidationError({"application": "A partial match is completed in SOAP: record the PGY-1 offer you accept."})
    if outcome.matched_program_id:
        raise ValidationError({"application": f"Your match to {outcome.matched_program.name} is recorded."})
    match_day = event_at(cycle_times(cycle), MATCH_DAY, cycle)
    if timezone.now() < match_day:
        raise ValidationError({"application": f"The NRMP reveals where you matched on {et_label(match_day)}."})
    application = Application.objects.select_related("program").filter(
        applicant=applicant, cycle=cycle, pk=application_id
    ).first()
    if application is None:
        raise ValidationError({"application": "Choose one of your programs for this Match."})
    close_match(outcome, program=application.program, via=MatchOutcome.Via.MATCH, by=by)
    return outcome


def close_match(outcome: MatchOutcome, *, program, via: str, by) -> None:
    """Record the match and close the Match milestones; the pathway moves on to the contract."""
    outcome.matched_program, outcome.matched_via, outcome.matched_at = program, via, timezone.now()
    outcome.save(update_fields=["matched_program", "matched_via", "matched_at"])
    _mark_application_matched(outcome, program, by=by)
    milestones = _milestones(outcome.applicant, outcome.cycle)
    soap = milestones.get("soap")
    if via == MatchOutcome.Via.SOAP:
        _move(soap, MilestoneStatus.DONE, by=by)
    elif soap is not None and soap.status not in CLOSED:
        _move(soap, MilestoneStatus.WAIVED, by=by, reason="Matched in the Main Residency Match: SOAP not needed.")
    result = milestones.get("match_result")
    if result is not None and result.status not in CLOSED:
        code = f" ({program.nrmp_code})" if program.nrmp_code else ""
        add_document(milestone=result, label=f"Matched through {MatchOutcome.Via(via).label}",
                     reference=f"{program.name}{code}"[:120], by=by)
        _move(result, MilestoneStatus.DONE, by=by)
    contract = milestones.get("contract_onboarding")
    if contract is not None and contract.status == MilestoneStatus.NOT_STARTED:
        _move(contract, MilestoneStatus.IN_PROGRESS, by=by)


def _mark_application_matched(outcome: MatchOutcome, program, *, by) -> None:
    """The tracker says so too: the application to the program (if tracked) is matched."""
    application = Application.objects.filter(applicant=outcome.applicant, cycle=outcome.cycle, program=program).first()
    if application is not None:
        set_application_status(application=application, status=AppStatus.MATCHED, by=by,
                               note=f"Matched through {MatchOutcome.Via(outcome.matched_via).label}.")
