"""The review queue: reports of outdated information, for advisors and admins (advisors need their second
factor first: pathway.web.second_factor). Accepting updates the claim (verified by the reviewer, kept in its
history); dismissing closes the report with a note. Applicants never see the queue (404)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from pathway.access import get_open_report_for, reviewer_only
from programs.models import OutdatedReport, RequirementClaim
from programs.services.reports import accept_report, dismiss_report

from .forms import AcceptForm, DismissForm, add_service_error
from .presenters import PAGE_SIZE, page_numbers, who


def _queue(user):
    claims = Prefetch("program__claims", queryset=RequirementClaim.objects.all())
    return (
        OutdatedReport.objects.open().visible_to(user)
        .select_related("program", "program__specialty", "reported_by")
        .prefetch_related(claims)
        .order_by("created_at", "pk")
    )


def _item(report: OutdatedReport, viewer, forms: dict) -> dict:
    current = next((c for c in report.program.claims.all() if c.requirement == report.requirement), None)
    accept, dismiss = forms.get(report.pk, (None, None))
    return {
        "report": report,
        "current": current,
        "reporter": who(report.reported_by, viewer) if report.reported_by_id else "a former user",
        "accept_form": accept or AcceptForm(prefix=f"r{report.pk}", initial={"value": report.proposed_value}),
        "dismiss_form": dismiss or DismissForm(prefix=f"d{report.pk}"),
    }


def _render_queue(request, *, forms=None, status=200):
    page = Paginator(_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    items = [_item(report, request.user, forms or {}) for report in page.object_list]
    context = {"page": page, "items": items, "page_numbers": page_numbers(page)}
    return render(request, "directory/review_queue.html", context, status=status)


@reviewer_only
@require_GET
def review_queue(request):
    return _render_queue(request)


@reviewer_only
@require_POST
def report_accept(request, pk: int):
    report = get_open_report_for(request.user, pk)
    form = AcceptForm(request.POST, prefix=f"r{report.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            accept_report(
                report=report, by=request.user, value=data["value"] or None, source_url=data["source_url"] or None,
                observed_on=data["observed_on"], note=data["note"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Accepted: {report.program.name}'s {report.get_requirement_display().lower()} is updated.")
            return redirect("directory:review_queue")
    return _render_queue(request, forms={report.pk: (form, None)}, status=422)


@reviewer_only
@require_POST
def report_dismiss(request, pk: int):
    report = get_open_report_for(request.user, pk)
    form = DismissForm(request.POST, prefix=f"d{report.pk}")
    if form.is_valid():
        try:
            dismiss_report(report=report, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Dismissed the report on {report.program.name}.")
            return redirect("directory:review_queue")
    return _render_queue(request, forms={report.pk: (None, form)}, status=422)
