"""The program directory's pages, for every signed-in role: search, a program's page, reporting outdated
information, and an applicant's own list of programs.

Search is a GET form: the URL holds the filters (bookmark it, share it) and the page works without
JavaScript; with htmx, changing a filter swaps only the results (the `results` partial of the same
template) and pushes the new URL. Refused input comes back with status 422 and the reasons next to the
fields, and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pathway.access import applicant_only, get_program_for, profile_of
from programs.eligibility import verdicts_for
from programs.models import ApplicantProgram, Program
from programs.services.own import add_own_program, remove_own_program
from programs.services.reports import report_outdated

from .forms import AddProgramForm, ReportForm, add_service_error
from .presenters import base_queryset, page_numbers, program_detail, result_row, search

RESULTS = "directory/program_list.html#results"


def _profile(user):
    profile = profile_of(user) if user.is_applicant else None
    if profile is not None:
        profile.user = user  # the verdicts read the applicant's calendar through it: no second query
    return profile


@login_required
@require_GET
def program_list(request):
    context = search(request, _profile(request.user))
    context["page_numbers"] = page_numbers(context["page"])
    status = 422 if context["filter"].is_bound and context["form"].errors else 200
    if request.htmx and not request.htmx.boosted:
        return render(request, RESULTS, context, status=status)
    return render(request, "directory/program_list.html", context, status=status)


def _detail_response(request, program: Program, *, report_form=None, status=200):
    profile = _profile(request.user)
    context = program_detail(program=program, viewer=request.user, profile=profile)
    requirement = request.GET.get("report")
    context["report_form"] = report_form or ReportForm(initial={"requirement": requirement} if requirement else None)
    context["profile"] = profile
    context["on_my_list"] = (
        request.user.is_applicant
        and ApplicantProgram.objects.filter(applicant=request.user, program=program).exists()
    )
    return render(request, "directory/program_detail.html", context, status=status)


@login_required
@require_GET
def program_detail_page(request, pk: int):
    program = get_program_for(request.user, pk, queryset=Program.objects.with_related().with_claims())
    return _detail_response(request, program)


@login_required
@require_POST
def program_report(request, pk: int):
    """'Report outdated information': the report goes to the review queue; the claim stays as it is."""
    program = get_program_for(request.user, pk, queryset=Program.objects.with_related().with_claims())
    form = ReportForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            report_outdated(
                program=program, requirement=data["requirement"], by=request.user, message=data["message"],
                proposed_value=data["proposed_value"], source_url=data["source_url"],
                source_kind=data["source_kind"], observed_on=data["observed_on"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Thank you: your report is in the review queue. An advisor or admin will check it.")
            return redirect("directory:program_detail", pk=program.pk)
    return _detail_response(request, program, report_form=form, status=422)


@applicant_only
@require_POST
def program_add(request, pk: int):
    """Put a program of the directory on the applicant's own list."""
    program = get_program_for(request.user, pk)
    try:
        add_own_program(applicant=request.user, nrmp_code=program.nrmp_code or "", name="" if program.nrmp_code else program.name)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{program.name} is on your list.")
    return redirect("directory:program_detail", pk=program.pk)


@applicant_only
@require_POST
def program_remove(request, pk: int):
    program = get_program_for(request.user, pk)
    remove_own_program(applicant=request.user, program=program)
    messages.success(request, f"{program.name} is no longer on your list.")
    if request.POST.get("next") == "mine":
        return redirect("directory:my_programs")
    return redirect("directory:program_detail", pk=program.pk)


@applicant_only
@require_http_methods(["GET", "POST"])
def my_programs(request):
    """The programs the applicant applies to, each with its verdict, and the form to add one."""
    form = AddProgramForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            entry = _add_from_form(request, form)
            if entry is not None:
                return redirect("directory:program_detail", pk=entry.program_id)
        status = 422
    profile = _profile(request.user)
    programs = list(base_queryset(request.user).filter(applicants__applicant=request.user))
    verdicts = verdicts_for(profile=profile, programs=programs) if profile else {}
    rows = [result_row(program, verdicts.get(program.pk)) for program in programs]
    return render(request, "directory/my_programs.html", {"form": form, "rows": rows, "profile": profile}, status=status)


def _add_from_form(request, form: AddProgramForm):
    data = form.cleaned_data
    try:
        entry, created = add_own_program(
            applicant=request.user, nrmp_code=data["nrmp_code"].strip(), name=data["name"].strip(),
            state=data["state"], claims=form.claims(), source_url=data["source_url"],
            source_kind=data["source_kind"], observed_on=data["observed_on"], note=data["note"],
        )
    except ValidationError as error:
        add_service_error(form, error)
        return None
    if created:
        messages.success(request, "The program is added to your list. Only you (and advisors) see it until an admin lists it.")
    elif form.claims() and entry.program.listed:
        messages.success(request, "The program is on your list; what you read went to the review queue.")
    else:
        messages.success(request, "The program is on your list.")
    return entry
