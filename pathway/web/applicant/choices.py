"""The applicant's choices about the shape of their pathway, each one POST from the dashboard or settings:
switch the target Match (the dashboard's "earliest reachable Match" button) and add or remove an
optional step (the couples match, a fellowship...). Both re-plan through the services; bad input is
refused with a message and changes nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from milestones import services
from milestones.models import MatchCycle
from pathway.access import applicant_only, profile_of

from .forms import CycleChoiceField


class SwitchCycleForm(forms.Form):
    target_cycle = CycleChoiceField(
        # Only a Match whose Match Day is still ahead, as onboarding offers.
        queryset=MatchCycle.objects.none(),
        error_messages={
            "invalid_choice": "Choose one of the Matches still ahead.",
            "required": "Choose a Match.",
        },
    )

    def __init__(self, *args, **kwargs):
        from django.utils import timezone

        super().__init__(*args, **kwargs)
        self.fields["target_cycle"].queryset = MatchCycle.objects.filter(
            events__key="match_day", events__at__gt=timezone.now()
        ).distinct()


class OptionalStepForm(forms.Form):
    key = forms.SlugField(max_length=60)
    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")])


@applicant_only
@require_POST
def switch_cycle(request):
    profile = profile_of(request.user)
    if profile is None:
        return redirect("applicant:onboarding")
    form = SwitchCycleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["target_cycle"]))
        return redirect("applicant:dashboard")
    profile.target_cycle = form.cleaned_data["target_cycle"]
    services.save_profile(profile=profile, replan=True, by=request.user)
    messages.success(
        request,
        f"Your target is now the {profile.target_cycle.name}: deadlines re-planned, everything you entered is kept.",
    )
    return redirect("applicant:dashboard")


@applicant_only
@require_POST
def optional_step(request):
    profile = profile_of(request.user)
    if profile is None:
        return redirect("applicant:onboarding")
    form = OptionalStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an optional step to add or remove.")
        return redirect("applicant:settings")
    add = form.cleaned_data["action"] == "add"
    try:
        services.set_optional_step(profile=profile, key=form.cleaned_data["key"], add=add, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, "Step added to your pathway." if add else "Step removed; what you entered is kept."
        )
    return redirect("applicant:settings")
