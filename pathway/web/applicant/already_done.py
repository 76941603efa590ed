"""Onboarding's "already done" questions: which steps are behind the applicant, and the dates that
matter (the exam pass dates). Added to the profile form only when the profile is new; marked done after
the pathway is planned, through `services.record_steps_already_done`.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q

from milestones.models import DeadlineKind, Exam, MilestoneTemplate, Phase
from pathway.lib.times import today_in

# The steps someone can have behind them when they join; later phases are after the Match itself.
PHASES_BEFORE_MATCH_DAY = (
    Phase.ELIGIBILITY,
    Phase.EXAMS,
    Phase.CERTIFICATION,
    Phase.APPLICATION,
    Phase.MATCH,
)
EXAMS_ASKED = (Exam.STEP1, Exam.STEP2CK, Exam.STEP3)


def pass_date_field(exam: str) -> str:
    return f"{exam}_passed_on"


def add_already_done_fields(form: forms.Form, date_field) -> None:
    templates = (
        MilestoneTemplate.objects.filter(
            is_active=True, optional=False, contingency=False, phase__in=PHASES_BEFORE_MATCH_DAY
        )
        # Graduation is the profile's own date, not a step to tick.
        .filter(~Q(deadline_kind=DeadlineKind.APPLICANT))
        .order_by("order")
    )
    form.fields["already_done"] = forms.MultipleChoiceField(
        label="Steps you have already done",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(t.key, t.title) for t in templates],
        help_text="Joining mid-way? Tick what is behind you so your pathway starts from where you are. "
        "Steps that do not apply to you are ignored.",
    )
    for exam in EXAMS_ASKED:
        form.fields[pass_date_field(exam)] = date_field(
            f"Date you passed {Exam(exam).label}",
            required=False,
            help_text="Only if you ticked it above: the test date of your passing attempt.",
        )


def clean_already_done(form: forms.Form, cleaned: dict) -> None:
    """An exam ticked as done needs its pass date; no pass date lies in the future."""
    if "already_done" not in form.fields:
        return
    exams = dict(
        MilestoneTemplate.objects.filter(key__in=cleaned.get("already_done") or [], evidence="exam")
        .exclude(exam="")
        .values_list("exam", "title")
    )
    today = today_in(None)
    for exam in EXAMS_ASKED:
        name = pass_date_field(exam)
        value = cleaned.get(name)
        if exam in exams and value is None:
            form.add_error(name, f"Give the date you passed {exams[exam]}, or untick it.")
        elif value is not None and value > today:
            form.add_error(name, "A pass date cannot be in the future.")


def already_done(form: forms.Form) -> tuple[list[str], dict]:
    """(keys ticked, {exam code: pass date}) from a valid form; nothing when the questions were not asked."""
    if "already_done" not in form.fields:
        return [], {}
    dates = {exam: form.cleaned_data.get(pass_date_field(exam)) for exam in EXAMS_ASKED}
    return list(form.cleaned_data["already_done"]), {exam: day for exam, day in dates.items() if day}
