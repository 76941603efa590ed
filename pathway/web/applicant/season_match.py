"""The season's end on the applicant's face: the rank order list builder, Match Week and SOAP.

Keyboard first and without JavaScript: the list is one form of number inputs with move-up/move-down and
remove buttons, posted with the version of the list the page showed (a second tab's older version is
refused with nothing saved, and the page shows the list as it is now). static/js/rol.js adds drag and drop
where JavaScript runs; it only fills in the same number inputs and submits the same form.

Thin views: the applicant's own season (pathway.access.profile_of; services filter on the applicant, so
another person's ids find nothing), one service call, a redirect with a message; a refusal re-renders the
page with status 422 and the reason, and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from milestones.models import MatchCycle
from pathway.access import applicant_only, profile_of
from programs.models import Program
from programs.season import match as match_services
from programs.season import rol as rol_services
from programs.season import soap as soap_services
from programs.season.match_models import MatchOutcome, SoapOffer
from programs.season.match_rules import STATUS_RELEASE, cycle_times
from programs.season.rol_read import overview

SEARCH_RESULTS = 25


def _season(request):
    """(profile, cycle): the cycle named by ?cycle=YEAR (or a posted cycle), else the target Match."""
    profile = profile_of(request.user)
    if profile is None:
        return None, None
    year = request.POST.get("cycle") or request.GET.get("cycle")
    cycle = MatchCycle.objects.filter(year=int(year)).first() if year and str(year).isdigit() else None
    return profile, cycle or profile.target_cycle


def _int(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _cycles(cycle) -> dict:
    return {"cycle": cycle, "cycles": MatchCycle.objects.order_by("year")}


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


# --- Rank order list -----------------------------------------------------------------------------


@applicant_only
@require_GET
def rank_order_list(request):
    profile, cycle = _season(request)
    if profile is None:
        return redirect("applicant:onboarding")
    return _render_rol(request, profile, cycle)


def _render_rol(request, profile, cycle, *, errors=(), status=200):
    context = {"view": overview(applicant=request.user, cycle=cycle, profile=profile), "errors": list(errors),
               "tz_name": profile.time_zone, **_cycles(cycle)}
    return render(request, "applicant/season/rol.html", context, status=status)


def _rol_done(request, cycle, message: str):
    if message:
        messages.success(request, message)
    return redirect(f"{reverse('applicant:season_rol')}?cycle={cycle.year}")


def _rol_action(request, action):
    """Run one list change; a refusal re-renders the page (422) with the list as it is now."""
    profile, cycle = _season(request)
    if profile is None:
        return redirect("applicant:onboarding")
    try:
        message = action(cycle, _int(request.POST.get("version")))
    except ValidationError as exc:
        return _render_rol(request, profile, cycle, errors=_errors(exc), status=422)
    return _rol_done(request, cycle, message)


@applicant_only
@require_POST
def rol_order(request):
    """The list's form: a move (move=up:<id>), a removal (remove=<id>) or the typed numbers (rank-<id>)."""
    list_id = _int(request.POST.get("list"))

    def action(cycle, version):
        common = {"applicant": request.user, "cycle": cycle, "version": version, "by": request.user, "list_id": list_id}
        if request.POST.get("remove"):
            rol_services.remove_rank(application_id=_int(request.POST["remove"]) or 0, **common)
            return "Taken off the list; the programs below it moved up."
        stored = _stored(request.user, cycle, list_id)
        move = request.POST.get("move", "")
        if move:
            direction, _, pk = move.partition(":")
            order = rol_services.order_after_move(stored, _int(pk) or 0, direction)
        else:
            order = rol_services.order_from_positions(stored, _positions(request.POST, stored))
        changed = rol_services.reorder(order=order, **common)
        return "Order saved." if changed else "The order is unchanged."

    return _rol_action(request, action)


def _stored(user, cycle, list_id) -> list[int]:
    rol = rol_services.rank_order_list_of(user, cycle)
    if rol is None:
        raise ValidationError("Your rank order list is empty: add a program first.")
    lists = rol.lists.all()
    rank_list = lists.filter(pk=list_id).first() if list_id else lists.filter(kind="primary").first()
    if rank_list is None:
        raise ValidationError("No such list on your rank order list.")
    return rol_services.current_order(rank_list)


def _positions(data, stored: list[int]) -> dict[int, int]:
    positions = {}
    for pk in stored:
        value = _int(data.get(f"rank-{pk}"))
        if value is None:
            raise ValidationError("Each rank must be a whole number from 1 (your first choice).")
        positions[pk] = value
    return positions


@applicant_only
@require_POST
def rol_add(request):
    def action(cycle, version):
        rank = rol_services.add_rank(applicant=request.user, cycle=cycle, version=version, by=request.user,
                                     application_id=_int(request.POST.get("application")) or 0,
                                     list_id=_int(request.POST.get("list")))
        return f"{rank.application.program.name} added at rank {rank.rank}."

    return _rol_action(request, action)


@applicant_only
@require_POST
def rol_supplemental(request):
    def action(cycle, version):
        created = rol_services.create_supplemental_list(
            applicant=request.user, cycle=cycle, version=version, by=request.user,
            name=request.POST.get("name", "")[:80],
            advanced_ids=[pk for pk in (_int(v) for v in request.POST.getlist("advanced")) if pk],
        )
        return f"Supplemental list {created} created."

    return _rol_action(request, action)


@applicant_only
@require_POST
def rol_supplemental_delete(request):
    def action(cycle, version):
        rol_services.delete_supplemental_list(applicant=request.user, cycle=cycle, version=version, by=request.user,
                                              list_id=_int(request.POST.get("list")) or 0)
        return "Supplemental list deleted."

    return _rol_action(request, action)


@applicant_only
@require_POST
def rol_certify(request):
    def action(cycle, version):
        rol_services.certify(applicant=request.user, cycle=cycle, version=version, by=request.user)
        return "Rank order list certified. Remember to certify it in the NRMP's R3 system too."

    return _rol_action(request, action)


# --- Match Week and SOAP ---------------------------------------------------------------------------


@applicant_only
@require_GET
def match_week(request):
    profile, cycle = _season(request)
    if profile is None:
        return redirect("applicant:onboarding")
    return _render_match(request, profile, cycle)


def _render_match(request, profile, cycle, *, errors=(), status=200):
    outcome = match_services.outcome_of(request.user, cycle)
    query = request.GET.get("q", "").strip()[:100]
    applied = set()
    applications, offers = [], []
    if outcome is not None:
        applications = list(outcome.soap_applications.select_related("program__specialty").prefetch_related("offers"))
        applied = {a.program_id for a in applications}
        offers = list(outcome.soap_offers.select_related("application__program"))
    results = []
    if query and outcome is not None and outcome.in_soap:
        results = list(Program.objects.visible_to(request.user).with_related().search(query)[:SEARCH_RESULTS])
    timing = soap_services.round_now(cycle) if outcome is not None and outcome.in_soap else None
    context = {
        "outcome": outcome, "errors": list(errors), "statuses": MatchOutcome.Status.choices,
        "release": cycle_times(cycle).get(STATUS_RELEASE), "soap_applications": applications, "offers": offers,
        "limit": soap_services.shown_soap_limit(cycle), "query": query, "results": results, "applied": applied,
        "timing": timing, "tz_name": profile.time_zone, "open_status": SoapOffer.Status.OPEN,
        "ranked": _ranked_programs(request.user, cycle) if outcome and outcome.status != "unmatched" else [],
        **_cycles(cycle),
    }
    return render(request, "applicant/season/match.html", context, status=status)


def _ranked_programs(user, cycle):
    from programs.season.models import Application

    return list(Application.objects.of(user, cycle).with_related().exclude(status="withdrawn").order_by("program__name"))


def _match_action(request, action):
    profile, cycle = _season(request)
    if profile is None:
        return redirect("applicant:onboarding")
    try:
        message = action(cycle)
    except ValidationError as exc:
        return _render_match(request, profile, cycle, errors=_errors(exc), status=422)
    messages.success(request, message)
    return redirect(f"{reverse('applicant:season_match')}?cycle={cycle.year}")


@applicant_only
@require_POST
def match_status(request):
    def action(cycle):
        outcome = match_services.record_match_status(
            applicant=request.user, cycle=cycle, status=request.POST.get("status", ""),
            soap_eligible=request.POST.get("soap_eligible") == "on", by=request.user,
        )
        return f"Recorded: {outcome.get_status_display().lower()}."

    return _match_action(request, action)


@applicant_only
@require_POST
def match_program(request):
    def action(cycle):
        outcome = match_services.record_matched_program(
            applicant=request.user, cycle=cycle, application_id=_int(request.POST.get("application")) or 0,
            by=request.user,
        )
        return f"Congratulations: your match to {outcome.matched_program.name} is recorded."

    return _match_action(request, action)


@applicant_only
@require_POST
def soap_apply(request):
    def action(cycle):
        application = soap_services.add_soap_application(
            applicant=request.user, cycle=cycle, program_id=_int(request.POST.get("program")) or 0, by=request.user
        )
        return f"SOAP application to {application.program.name} recorded."

    return _match_action(request, action)


@applicant_only
@require_POST
def soap_offer(request):
    def action(cycle):
        offer = soap_services.record_offer(
            applicant=request.user, cycle=cycle, application_id=_int(request.POST.get("application")) or 0,
            by=request.user,
        )
        return f"Round {offer.round} offer from {offer.application.program.name} recorded: answer it in time."

    return _match_action(request, action)


@applicant_only
@require_POST
def soap_answer(request):
    def action(cycle):
        accept = request.POST.get("answer") == "accept"
        offer = soap_services.answer_offer(
            applicant=request.user, cycle=cycle, offer_id=_int(request.POST.get("offer")) or 0, accept=accept,
            by=request.user,
        )
        program = offer.application.program.name
        return f"You accepted {program}'s offer: you have matched." if accept else f"Offer from {program} declined."

    return _match_action(request, action)
