"""The season pages of the applicant's face: my programs (list, filters, CSV, one program's page with its
status, notes, signal, interview and scores), costs, signals, letters and interviews.

Thin views: the access-checked fetch (pathway.access), a form, one service of programs.season, a response.
Every page works without JavaScript (forms post, then redirect with a message); with htmx the list's
filters swap the table and a program page's forms swap their panel, from partials of the same template.
Refused input (the form's own errors or the service's: `ServiceErrorsMixin.accepted_by`) comes back with
status 422 and the reason next to the field, and changes nothing.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from milestones.models import MatchCycle
from pathway.access import applicant_only, get_application_for, profile_of
from pathway.lib.times import applicant_today
from programs.models import ApplicantProgram, Program
from programs.season import applications as season_apps
from programs.season import fees as season_fees
from programs.season import interviews as season_interviews
from programs.season import signals as season_signals
from programs.season.export import export_applications_csv, history_text
from programs.season.filters import ApplicationFilter
from programs.season.models import Application, Criterion, Interview, Letter, Payment

from .season_forms import (
    AddProgramForm,
    CriterionForm,
    InterviewForm,
    NotesForm,
    PaymentForm,
    ScoresForm,
    SignalForm,
    StatusForm,
)

SEARCH_RESULTS = 25


def season_of(request):
    """(profile, cycle) for the season pages: the cycle named by ?cycle=YEAR, else the target cycle;
    None before onboarding."""
    profile = profile_of(request.user)
    if profile is None:
        return None, None
    year = request.GET.get("cycle") or request.POST.get("cycle")
    cycle = None
    if year and year.isdigit():
        cycle = MatchCycle.objects.filter(year=int(year)).first()
    return profile, cycle or profile.target_cycle


def _cycles(cycle) -> dict:
    return {"cycle": cycle, "cycles": MatchCycle.objects.order_by("year")}


# --- My programs -----------------------------------------------------------------------------------


@applicant_only
@require_GET
def programs_list(request):
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    base = Application.objects.of(request.user, cycle).for_list()
    filterset = ApplicationFilter(request.GET or None, queryset=base, request=request)
    rows = list(filterset.qs)
    clashes = season_interviews.conflicts([a.interview for a in rows if _has_interview(a)], profile.tz)
    for row in rows:
        row.clash_list = clashes.get(row.interview.pk, []) if _has_interview(row) else []
    context = {
        "filter": filterset, "rows": rows, "tz_name": profile.time_zone,
        "total": base.count() if filterset.is_bound else len(rows),
        "fees": season_fees.estimate(applicant=request.user, cycle=cycle), **_cycles(cycle),
    }
    if request.htmx:
        return render(request, "applicant/season/programs.html#table", context)
    return render(request, "applicant/season/programs.html", context)


def _has_interview(application) -> bool:
    try:
        return application.interview is not None
    except Interview.DoesNotExist:
        return False


@applicant_only
@require_GET
def programs_csv(request):
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    filterset = ApplicationFilter(request.GET or None, queryset=Application.objects.of(request.user, cycle).for_list())
    stream = io.StringIO()
    export_applications_csv(filterset.qs, stream, filters=filterset.described(), cycle=cycle)
    response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-programs-{cycle.year}.csv"'
    return response


@applicant_only
@require_http_methods(["GET", "POST"])
def programs_add(request):
    """Find a program in the directory (GET ?q=) and add it to the season's list (POST program=<pk>)."""
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    if request.method == "POST":
        program = Program.objects.visible_to(request.user).filter(pk=_int(request.POST.get("program"))).first()
        if program is None:
            messages.error(request, "Choose a program from the directory.")
            return redirect(f"{request.path}?cycle={cycle.year}")
        application, created = season_apps.add_application(
            applicant=request.user, program=program, cycle=cycle, by=request.user
        )
        messages.success(request, f"{program.name} {'added to' if created else 'is already on'} your {cycle} list.")
        return redirect("applicant:season_application", pk=application.pk)
    form = AddProgramForm(request.GET or None)
    results = []
    if form.is_valid() and form.cleaned_data["q"]:
        results = list(
            Program.objects.visible_to(request.user).with_related().search(form.cleaned_data["q"])[:SEARCH_RESULTS]
        )
    on_list = set(Application.objects.of(request.user, cycle).values_list("program_id", flat=True))
    # The programs the applicant keeps on the directory's own list (cycle-free), not yet in this season.
    followed = [
        entry.program for entry in ApplicantProgram.objects.filter(applicant=request.user)
        .exclude(program_id__in=on_list).select_related("program__specialty", "program__institution")
        .order_by("program__name")
    ]
    context = {"form": form, "results": results, "on_list": on_list, "followed": followed, **_cycles(cycle)}
    return render(request, "applicant/season/add.html", context)


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


# --- One program's page ---------------------------------------------------------------------------


@applicant_only
@require_GET
def application_detail(request, pk: int):
    application = get_application_for(request.user, pk)
    return _render_application(request, application)


def _render_application(request, application, *, forms=None, status=200, saved=""):
    profile = profile_of(request.user)
    interview = Interview.objects.filter(application=application).first()
    criteria = list(Criterion.objects.filter(applicant=request.user))
    others = [
        i for i in Interview.objects.filter(application__applicant=request.user, application__cycle=application.cycle)
        .select_related("application__program") if i.starts_at
    ]
    forms = forms or {}
    context = {
        "application": application, "interview": interview, "saved": saved, "tz_name": profile.time_zone,
        "history": application.changes.select_related("by").order_by("at", "pk"),
        "history_text": history_text,
        "letters": Letter.objects.filter(assignments__application=application).order_by("writer"),
        "clashes": season_interviews.conflicts(others, profile.tz).get(interview.pk, []) if interview else [],
        "warnings": season_signals.signal_warnings(application) if application.signal else [],
        "allowance": season_signals.allowance_for(application),
        "score": season_interviews.scores_for(applicant=request.user, cycle=application.cycle).get(application.pk),
        "status_form": forms.get("status") or StatusForm(initial={"status": application.status}),
        "notes_form": forms.get("notes") or NotesForm(
            initial={"notes": application.notes, "letters_required": application.letters_required}),
        "signal_form": forms.get("signal") or SignalForm(initial={"signal": application.signal}),
        "interview_form": forms.get("interview") or InterviewForm(initial=InterviewForm.initial_for(interview)),
        "scores_form": forms.get("scores") or ScoresForm(criteria=criteria, initial=_score_initial(interview)),
        "criteria": criteria,
        "interview_local": interview.starts_at.astimezone(ZoneInfo(interview.time_zone))
        if interview and interview.starts_at else None,
    }
    template = "applicant/season/application.html"
    if request.htmx:
        template += "#panel"
    return render(request, template, context, status=status)


def _score_initial(interview) -> dict:
    if interview is None:
        return {}
    initial = {"notes": interview.notes}
    for score in interview.scores.all():
        initial[f"score_{score.criterion_id}"] = str(score.score)
    return initial


def _done(request, application, message: str):
    if request.htmx:
        application.refresh_from_db()
        return _render_application(request, application, saved=message)
    messages.success(request, message)
    return redirect("applicant:season_application", pk=application.pk)


def _refused(request, application, name: str, form):
    return _render_application(request, application, forms={name: form}, status=422)


@applicant_only
@require_POST
def application_status(request, pk: int):
    application = get_application_for(request.user, pk)
    form = StatusForm(request.POST)
    if form.accepted_by(lambda data: season_apps.set_status(
            application=application, status=data["status"], by=request.user, note=data["note"])):
        return _done(request, application, "Status saved.")
    return _refused(request, application, "status", form)


@applicant_only
@require_POST
def application_notes(request, pk: int):
    application = get_application_for(request.user, pk)
    form = NotesForm(request.POST)
    if form.accepted_by(lambda data: season_apps.update_application(
            application=application, notes=data["notes"], letters_required=data["letters_required"])):
        return _done(request, application, "Notes saved.")
    return _refused(request, application, "notes", form)


@applicant_only
@require_POST
def application_signal(request, pk: int):
    application = get_application_for(request.user, pk)
    form = SignalForm(request.POST)
    # Its warnings (requirements failed or unknown) show on the program's page with the signal.
    if form.accepted_by(lambda data: season_signals.set_signal(
            application=application, signal=data["signal"], by=request.user)):
        return _done(request, application, "Signal saved.")
    return _refused(request, application, "signal", form)


@applicant_only
@require_POST
def application_interview(request, pk: int):
    application = get_application_for(request.user, pk)
    form = InterviewForm(request.POST)

    def save(data):
        season_interviews.save_interview(
            application=application, by=request.user, invited_on=data["invited_on"],
            starts_local=form.starts_local(), time_zone=data["time_zone"],
            duration_minutes=data["duration_minutes"], mode=data["mode"], thank_you_on=data["thank_you_on"],
            letter_of_intent_on=data["letter_of_intent_on"],
        )

    if form.accepted_by(save):
        return _done(request, application, "Interview saved.")
    return _refused(request, application, "interview", form)


@applicant_only
@require_POST
def application_scores(request, pk: int):
    application = get_application_for(request.user, pk)
    interview = Interview.objects.filter(application=application).first()
    form = ScoresForm(request.POST, criteria=list(Criterion.objects.filter(applicant=request.user)))
    if interview is None:
        form.is_valid()
        form.add_error(None, "Record the interview first.")
    elif form.accepted_by(lambda data: season_interviews.save_interview_notes(
            interview=interview, notes=data["notes"], scores=form.scores(), today=applicant_today(request.user))):
        return _done(request, application, "Notes and scores saved.")
    return _refused(request, application, "scores", form)


# --- Costs, signals, interviews --------------------------------------------------------------------


@applicant_only
@require_http_methods(["GET", "POST"])
def costs(request):
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    form = PaymentForm(request.POST or None, initial={"paid_on": applicant_today(request.user)})
    if request.method == "POST" and form.accepted_by(
            lambda data: season_fees.record_payment(applicant=request.user, cycle=cycle, **data)):
        messages.success(request, "Payment recorded.")
        return redirect(f"{request.path}?cycle={cycle.year}")
    context = {
        "estimate": season_fees.estimate(applicant=request.user, cycle=cycle), "form": form,
        "payments": Payment.objects.filter(applicant=request.user, cycle=cycle), **_cycles(cycle),
    }
    return render(request, "applicant/season/costs.html", context, status=422 if form.errors else 200)


@applicant_only
@require_GET
def signals(request):
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    signalled = list(Application.objects.of(request.user, cycle).signalled().with_related())
    context = {
        "uses": season_signals.signal_summary(applicant=request.user, cycle=cycle),
        "signalled": [(a, season_signals.signal_warnings(a)) for a in signalled], **_cycles(cycle),
    }
    return render(request, "applicant/season/signals.html", context)


@applicant_only
@require_http_methods(["GET", "POST"])
def interviews(request):
    """Every interview of the season in date order, clashes flagged; the applicant's criteria."""
    profile, cycle = season_of(request)
    if profile is None:
        return redirect("applicant:onboarding")
    form = CriterionForm(request.POST or None)
    if request.method == "POST" and form.accepted_by(
            lambda data: season_interviews.save_criterion(applicant=request.user, **data)):
        messages.success(request, "Criterion added.")
        return redirect(f"{request.path}?cycle={cycle.year}")
    rows = list(
        Interview.objects.filter(application__applicant=request.user, application__cycle=cycle)
        .select_related("application__program__institution")
    )
    rows.sort(key=lambda i: (i.starts_at is None, i.starts_at or timezone.now()))
    clashes = season_interviews.conflicts(rows, profile.tz)
    scores = season_interviews.scores_for(applicant=request.user, cycle=cycle)
    for row in rows:
        row.clash_list, row.score = clashes.get(row.pk, []), scores.get(row.application_id)
    context = {
        "rows": rows, "tz_name": profile.time_zone, "form": form,
        "criteria": Criterion.objects.filter(applicant=request.user), **_cycles(cycle),
    }
    return render(request, "applicant/season/interviews.html", context, status=422 if form.errors else 200)


@applicant_only
@require_POST
def criterion_delete(request, pk: int):
    deleted, _ = Criterion.objects.filter(applicant=request.user, pk=pk).delete()
    if not deleted:
        raise Http404
    messages.success(request, "Criterion removed (its scores with it).")
    return redirect("applicant:season_interviews")
