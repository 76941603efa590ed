"""The letters page: writers and their status, assignment to programs (the season's limit per program,
enforced by the service), programs asking for more letters than assigned. Every change also moves the
letters milestone along (programs.season.letters.sync_letters_milestone)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from pathway.access import applicant_only, get_application_for, get_letter_for
from pathway.lib.times import applicant_today
from programs.season import letters as season_letters
from programs.season.models import Application, Letter, LetterAssignment, SeasonLimit, Status

from .season import _cycles, season_of
from .season_forms import AssignForm, LetterForm


def _open_applications(user, cycle):
    return Application.objects.of(user, cycle).exclude(status=Status.WITHDRAWN).with_related()


@applicant_only
@require_http_methods(["GET", "POST"])
def letters(request):
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    form = LetterForm(request.POST or None, instance=Letter(applicant=request.user, cycle=cycle))
    if request.method == "POST" and form.accepted_by(
            lambda data: season_letters.save_letter(letter=form.save(commit=False), by=request.user)):
        messages.success(request, "Letter added.")
        return redirect(f"{request.path}?cycle={cycle.year}")
    rows = list(
        Letter.objects.filter(applicant=request.user, cycle=cycle).select_related("specialty")
        .prefetch_related("assignments__application__program")
    )
    today = applicant_today(request.user)
    context = {
        "rows": rows, "form": form, "today": today,
        "shortfalls": season_letters.shortfalls(applicant=request.user, cycle=cycle),
        "nudges": {letter.pk for letter in season_letters.letters_due_for_nudge(
            applicant=request.user, cycle=cycle, today=today)},
        "limit": _limit(cycle), **_cycles(cycle),
    }
    return render(request, "applicant/season/letters.html", context, status=422 if form.errors else 200)


def _limit(cycle):
    try:
        return season_letters.season_limit(cycle.year, SeasonLimit.Key.LETTERS_PER_PROGRAM)
    except ValidationError:
        return None


@applicant_only
@require_http_methods(["GET", "POST"])
def letter_detail(request, pk: int):
    letter = get_letter_for(request.user, pk)
    form = LetterForm(request.POST or None, instance=letter)
    assign_form = AssignForm(applications=_open_applications(request.user, letter.cycle))
    if request.method == "POST" and form.accepted_by(
            lambda data: season_letters.save_letter(letter=form.save(commit=False), by=request.user)):
        messages.success(request, "Letter saved.")
        return redirect("applicant:season_letter", pk=letter.pk)
    return _letter_page(request, letter, form, assign_form, status=422 if form.errors else 200)


def _letter_page(request, letter, form, assign_form, *, status=200):
    assignments = list(
        LetterAssignment.objects.filter(letter=letter).select_related("application__program__specialty")
    )
    for assignment in assignments:
        # A specialty letter sent to a program of another specialty is allowed, but rarely meant.
        program_specialty = assignment.application.program.specialty
        assignment.mismatch = bool(letter.specialty_id and program_specialty and program_specialty.pk != letter.specialty_id)
    context = {"letter": letter, "form": form, "assign_form": assign_form, "assignments": assignments,
               "limit": _limit(letter.cycle), "cycle": letter.cycle}
    return render(request, "applicant/season/letter.html", context, status=status)


@applicant_only
@require_POST
def letter_assign(request, pk: int):
    letter = get_letter_for(request.user, pk)
    assign_form = AssignForm(request.POST, applications=_open_applications(request.user, letter.cycle))
    if assign_form.accepted_by(
            lambda data: season_letters.assign_letter(letter=letter, application=data["application"], by=request.user)):
        messages.success(request, "Letter assigned.")
        return redirect("applicant:season_letter", pk=letter.pk)
    return _letter_page(request, letter, LetterForm(instance=letter), assign_form, status=422)


@applicant_only
@require_POST
def letter_unassign(request, pk: int, application: int):
    letter = get_letter_for(request.user, pk)
    season_letters.unassign_letter(letter=letter, application=get_application_for(request.user, application),
                                   by=request.user)
    messages.success(request, "Letter no longer assigned to that program.")
    return redirect("applicant:season_letter", pk=letter.pk)


@applicant_only
@require_POST
def letter_delete(request, pk: int):
    letter = get_letter_for(request.user, pk)
    year = letter.cycle.year
    season_letters.delete_letter(letter=letter, by=request.user)
    messages.success(request, "Letter removed.")
    return redirect(reverse("applicant:season_letters") + f"?cycle={year}")
