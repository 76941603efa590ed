"""The applicant's pages: onboarding, dashboard, timeline, milestone page with its forms, settings, your data.

Every page works without JavaScript (forms post, then redirect with a message); with htmx the milestone
forms re-render their panel in place from a partial of the same template, and the progress figures
follow through a client event. Refused input comes back with status 422 and the reasons next to the
fields, and changes nothing.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from milestones import rules as rule_checks
from milestones import services
from milestones.models import ApplicantProfile, Milestone
from milestones.reference import reference_data
from milestones.versions import page_state
from pathway import accounts
from pathway.access import applicant_only, get_evidence_for, get_milestone_for, profile_of
from pathway.lib.times import days_between
from pathway.models import User
from pathway.web.page_cache import cached_content, next_moment

from . import your_data
from .already_done import already_done
from .dashboard import dashboard_content, milestone_context, progress_for
from .forms import (
    EVIDENCE_FORMS,
    DeleteAccountForm,
    DocumentForm,
    ExamAttemptForm,
    NoteForm,
    NotificationForm,
    OETResultForm,
    ProfileForm,
    StatusForm,
    USCEForm,
)
from .timeline import build_timeline

PATHWAY_CHANGED = "pathway-changed"
REMINDER_HISTORY = 50


# --- Onboarding and profile --------------------------------------------------------------------------


@applicant_only
@require_http_methods(["GET", "POST"])
def onboarding(request):
    """The short form after sign-up that creates the profile and plans the pathway."""
    if profile_of(request.user) is not None:
        return redirect("applicant:settings_profile")
    return _profile_form(request, ApplicantProfile(user=request.user))


@applicant_only
@require_http_methods(["GET", "POST"])
def settings_profile(request):
    """The same facts, changed later; a change of type, visa, date or cycle re-plans (evidence kept)."""
    profile = profile_of(request.user)
    if profile is None:
        return redirect("applicant:onboarding")
    return _profile_form(request, profile)


def _profile_form(request, profile: ApplicantProfile):
    creating = profile.pk is None
    template = "applicant/profile_form.html"
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST":
        if form.is_valid():
            replan = form.needs_replanning()
            try:
                _save_profile_and_steps_done(request, form, replan=replan)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                return render(request, template, {"form": form, "onboarding": creating}, status=422)
            if creating:
                messages.success(request, "Your pathway is ready. Start with the next deadline below.")
            elif replan:
                messages.success(
                    request, "Profile saved and your pathway re-planned. Everything you entered is kept."
                )
            else:
                messages.success(request, "Profile saved.")
            return redirect("applicant:dashboard")
        return render(request, template, {"form": form, "onboarding": creating}, status=422)
    return render(request, template, {"form": form, "onboarding": creating})


@transaction.atomic
def _save_profile_and_steps_done(request, form, *, replan: bool) -> None:
    """The profile, its plan and the steps the applicant says are behind them: all saved, or none."""
    profile = services.save_profile(profile=form.save(commit=False), replan=replan, by=request.user)
    keys, pass_dates = already_done(form)
    if keys:
        services.record_steps_already_done(
            applicant=profile.user, keys=keys, pass_dates=pass_dates, by=request.user
        )


# --- Dashboard and timeline ----------------------------------------------------------------------------


@applicant_only
@require_GET
def dashboard(request):
    state = page_state(request.user.pk)
    if state is None:
        return redirect("applicant:onboarding")
    content = dashboard_content(request, applicant=request.user, state=state)
    return render(request, "applicant/dashboard.html", {"content": content})


@applicant_only
@require_GET
def dashboard_progress(request):
    """The progress figures alone, fetched by htmx after an update elsewhere on the page."""
    if not request.htmx:
        return redirect("applicant:dashboard")
    return render(request, "applicant/dashboard.html#progress", {"progress": progress_for(request.user)})


@applicant_only
@require_GET
def timeline(request):
    state = page_state(request.user.pk)
    if state is None:
        return redirect("applicant:onboarding")

    def build(now):
        profile = profile_of(request.user)
        milestones = list(Milestone.objects.of_applicant(request.user).order_by("template__order"))
        events = list(reference_data(state.reference_stamp).events_of(profile.target_cycle_id))
        chart = build_timeline(milestones=milestones, events=events, tz=profile.tz, now=now)
        context = {"profile": profile, "tz_name": profile.time_zone, "timeline": chart}
        html = render_to_string("applicant/timeline.html#body", context)
        return html, next_moment(now, [m.due_at for m in milestones] + [e.at for e in events])

    html = cached_content(kind="timeline", applicant_id=request.user.pk, state=state, build=build)
    return render(request, "applicant/timeline.html", {"content": mark_safe(html)})  # noqa: S308


# --- Milestone page ---------------------------------------------------------------------------------------


@applicant_only
@require_GET
def milestone_detail(request, key: str):
    milestone = get_milestone_for(request.user, key)
    return render(request, "applicant/milestone_detail.html", milestone_context(milestone=milestone))


def _saved(request, milestone: Milestone, message: str):
    """After a change: the fresh panel for htmx (and a nudge to the progress figures), else PRG."""
    if request.htmx:
        milestone.refresh_from_db()
        context = milestone_context(milestone=milestone, saved=message)
        response = render(request, "applicant/milestone_detail.html#panel", context)
        return trigger_client_event(response, PATHWAY_CHANGED, {"target": "body"})
    messages.success(request, message)
    return redirect("applicant:milestone_detail", key=milestone.template.key)


def _refused(request, milestone: Milestone, form):
    """The form back with its reasons next to the fields: the panel for htmx, else the whole page."""
    context = milestone_context(milestone=milestone, forms={form.context_name: form})
    context["refused"] = form
    name = "applicant/milestone_detail.html#panel" if request.htmx else "applicant/milestone_detail.html"
    return render(request, name, context, status=422)


def _post_to_milestone(request, key: str, form_class, action, message):
    """Validate the form, call the service; refusals (form or service) change nothing.

    `message` is the confirmation, or a function of (milestone, what the service returned) giving it.
    """
    milestone = get_milestone_for(request.user, key)
    if (
        form_class in EVIDENCE_FORMS.values()
        and EVIDENCE_FORMS.get(milestone.template.evidence) is not form_class
    ):
        raise Http404("This milestone does not record that kind of evidence.")
    form = form_class(request.POST, milestone=milestone)
    if form.is_valid():
        try:
            with transaction.atomic():
                result = action(milestone=milestone, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return _saved(request, milestone, message(milestone, result) if callable(message) else message)
    return _refused(request, milestone, form)


@applicant_only
@require_POST
def milestone_status(request, key: str):
    return _post_to_milestone(request, key, StatusForm, services.set_status, "Status saved.")


def _result_message(done: str, passed_of):
    """The confirmation, plus why a pass left the step in progress (the missing prerequisites, by name)."""

    def message(milestone: Milestone, result) -> str:
        waiting = services.pass_waiting_for(milestone, passed=passed_of(result))
        return " ".join(filter(None, [done, services.waiting_sentence(milestone, waiting)]))

    return message


@applicant_only
@require_POST
def milestone_attempt(request, key: str):
    message = _result_message("Exam attempt recorded.", lambda attempt: attempt.passed)
    return _post_to_milestone(request, key, ExamAttemptForm, services.record_exam_attempt, message)


@applicant_only
@require_POST
def milestone_oet(request, key: str):
    # Judged against the target season's OET window too (audit D1), as the service judged it.
    message = _result_message(
        "OET result recorded.",
        lambda result: rule_checks.judge_oet_result(
            result, season=result.milestone.applicant.profile.target_cycle.year
        ).passed,
    )
    return _post_to_milestone(request, key, OETResultForm, services.record_oet_result, message)


@applicant_only
@require_POST
def milestone_document(request, key: str):
    return _post_to_milestone(request, key, DocumentForm, services.add_document, "Saved.")


@applicant_only
@require_POST
def milestone_usce(request, key: str):
    return _post_to_milestone(request, key, USCEForm, services.add_usce_entry, "Clinical experience added.")


@applicant_only
@require_POST
def milestone_note(request, key: str):
    return _post_to_milestone(request, key, NoteForm, services.save_note, "Notes saved.")


@applicant_only
@require_POST
def milestone_evidence_delete(request, key: str, kind: str, pk: int):
    """Remove one evidence row entered by mistake; another milestone's or applicant's row is a 404."""
    milestone = get_milestone_for(request.user, key)
    row = get_evidence_for(request.user, milestone, kind=kind, pk=pk)
    try:
        services.remove_evidence(milestone=milestone, kind=kind, evidence_id=row.pk, by=request.user)
    except ObjectDoesNotExist as exc:  # unknown kind, or a row that is not on this milestone
        raise Http404(str(exc)) from exc
    except ValidationError as exc:  # e.g. the step no longer applies: nothing was removed
        raise Http404(" ".join(exc.messages)) from exc
    return _saved(request, milestone, "Removed.")


# --- Settings -----------------------------------------------------------------------------------------------


@applicant_only
@require_http_methods(["GET", "POST"])
def settings_page(request):
    profile = profile_of(request.user)
    if profile is None:
        return redirect("applicant:onboarding")
    form = NotificationForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        # Deadlines hanging from the applicant's own dates move with their time zone.
        replan = "time_zone" in form.changed_data
        services.save_profile(profile=form.save(commit=False), replan=replan, by=request.user)
        message = "Reminder settings saved."
        if request.htmx:
            context = {"form": NotificationForm(instance=profile), "saved": message}
            return render(request, "applicant/settings.html#notifications", context)
        messages.success(request, message)
        return redirect("applicant:settings")
    status = 422 if request.method == "POST" else 200
    if request.htmx and request.method == "POST":
        return render(request, "applicant/settings.html#notifications", {"form": form}, status=status)
    return render(
        request, "applicant/settings.html", _settings_context(request, profile, form), status=status
    )


def _settings_context(request, profile: ApplicantProfile, form) -> dict:
    from milestones.reminders import reminders_for

    return {
        "profile": profile,
        "form": form,
        "reminders": _as_the_email_said(list(reminders_for(request.user)[:REMINDER_HISTORY]), profile),
        "advisors": list(User.objects.advisors_of(request.user)),
        "feed_url": request.build_absolute_uri(
            reverse("applicant:calendar_feed", args=[profile.calendar_token])
        ),
        "tz_name": profile.time_zone,
        "has_second_factor": accounts.has_second_factor(request.user),
        "optional_steps": [
            {"template": template, "chosen": template.key in (profile.opted_in or [])}
            for template in services.optional_templates_for(profile)
        ],
    }


def _as_the_email_said(reminders: list, profile: ApplicantProfile) -> list:
    """Each reminder with `days_said`: the days to the deadline counted as its email counts them (from
    the moment it was sent, or is due to be, on the applicant's clock), not the planned lead time."""
    for reminder in reminders:
        sent = reminder.sent_at or reminder.scheduled_for
        reminder.days_said = max(days_between(sent, reminder.due_at, profile.tz), 0)
    return reminders


# --- Your data ------------------------------------------------------------------------------------------------


@applicant_only
@never_cache
@require_GET
def export_json(request):
    data = your_data.export_data(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{your_data.filename("json")}"'
    return response


@applicant_only
@never_cache
@require_GET
def export_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{your_data.filename("csv")}"'
    your_data.write_csv(your_data.export_data(user=request.user), response)
    return response


@applicant_only
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = DeleteAccountForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            user = request.user
            logout(request)
            accounts.delete_account(user=user)
            messages.success(request, "Your account and everything in it have been deleted.")
            return redirect("home")
        return render(request, "applicant/account_delete.html", {"form": form}, status=422)
    return render(request, "applicant/account_delete.html", {"form": form})
