"""The advisor's workspace settings: interview targets per specialty and the weekly digest, and the
digest's one-click opt-out link."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from pathway.access import role_required
from pathway.advising.digest import advisor_for_opt_out_token, opt_out_of_digest
from pathway.advising.targets import (
    remove_interview_target,
    set_interview_target,
    set_weekly_digest,
    wants_weekly_digest,
)
from pathway.models import InterviewTarget, User


class TargetForm(forms.ModelForm):
    class Meta:
        model = InterviewTarget
        fields = ["specialty", "interviews", "by_date"]
        labels = {"interviews": "Interviews wanted", "by_date": "By"}
        help_texts = {
            "specialty": "As your students write it in their profile, e.g. Internal Medicine.",
            "by_date": "A student of this specialty with fewer interviews by this date will be flagged.",
        }
        widgets = {"by_date": forms.DateInput(attrs={"type": "date"})}


class DigestForm(forms.Form):
    weekly_digest = forms.BooleanField(
        required=False,
        label="Send me a weekly digest",
        help_text="Each Monday: students with new risk flags and the deadlines of the coming week.",
    )


def _page(request, *, target_form=None, digest_form=None, status=200):
    context = {
        "targets": InterviewTarget.objects.filter(advisor=request.user),
        "target_form": target_form or TargetForm(),
        "digest_form": digest_form
        or DigestForm(initial={"weekly_digest": wants_weekly_digest(request.user)}),
    }
    return render(request, "advisor/cohort_settings.html", context, status=status)


@login_required
@role_required(User.Role.ADVISOR)
@require_http_methods(["GET", "POST"])
def workspace_settings(request):
    if request.method == "GET":
        return _page(request)
    action = request.POST.get("action")
    if action == "digest":
        form = DigestForm(request.POST)
        form.is_valid()  # a checkbox: every submission is valid
        set_weekly_digest(advisor=request.user, on=form.cleaned_data["weekly_digest"])
        messages.success(
            request, "Weekly digest " + ("on." if form.cleaned_data["weekly_digest"] else "off.")
        )
    elif action == "target":
        form = TargetForm(request.POST)
        if not form.is_valid():
            return _page(request, target_form=form, status=422)
        set_interview_target(advisor=request.user, **form.cleaned_data)
        messages.success(request, f"Interview target for {form.cleaned_data['specialty']} saved.")
    elif action == "remove" and request.POST.get("pk", "").isdigit():
        if remove_interview_target(advisor=request.user, pk=int(request.POST["pk"])):
            messages.success(request, "Interview target removed.")
        else:
            messages.error(request, "That target no longer exists.")
    else:
        messages.error(request, "Nothing was changed: the form was not recognised.")
    return redirect("advisor:workspace_settings")


# As the reminders' unsubscribe (pathway/web/applicant/unsubscribe.py): mail providers POST the one-click
# opt-out with no cookie and no CSRF token (RFC 8058); the signed token in the URL authorizes the change,
# and all it can do is stop that advisor's weekly digest.
@csrf_exempt
@cache_control(private=True, no_store=True)
@require_http_methods(["GET", "POST"])
def digest_opt_out(request, token):
    advisor = advisor_for_opt_out_token(token)
    if advisor is None:
        return render(request, "advisor/digest_opt_out.html", {"invalid": True}, status=404)
    if request.method == "POST":
        opt_out_of_digest(advisor=advisor)
        return render(request, "advisor/digest_opt_out.html", {"done": True, "email": advisor.email})
    return render(request, "advisor/digest_opt_out.html", {"email": advisor.email})
