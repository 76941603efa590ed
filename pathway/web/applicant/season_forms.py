"""Forms of the season pages (my programs, costs, signals, letters, interviews). Validation of the season's
rules stays in the services (programs.season.*); a form only parses, and shows a service's refusal next to
the field it names (ServiceErrorsMixin)."""

from __future__ import annotations

from datetime import datetime

from django import forms

from programs.models import Service, Specialty
from programs.season.models import Application, Criterion, Interview, Letter, SeasonFee, Signal, Status

from .forms import FieldTemplate, ServiceErrorsMixin, date_field, time_zone_choices


class StatusForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "status"
    status = forms.ChoiceField(choices=Status.choices, label="Status")
    note = forms.CharField(label="Note on this change (optional)", required=False, max_length=500)


class NotesForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "notes"
    notes = forms.CharField(label="Notes", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    letters_required = forms.IntegerField(
        label="Letters the program asks for", required=False, min_value=0, max_value=10,
        help_text="From the program's website; the letters page warns when fewer are assigned.",
    )


class SignalForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "signal"
    signal = forms.ChoiceField(choices=Signal.choices, label="Signal", required=False)


class InterviewForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "invited_on"
    invited_on = date_field("Invitation received", required=False)
    day = date_field("Interview date", required=False)
    time = forms.TimeField(label="Start time (the program's time)", required=False,
                           widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                           error_messages={"invalid": "Enter a time as hours:minutes, e.g. 09:30."})
    time_zone = forms.ChoiceField(label="The program's time zone", choices=time_zone_choices,
                                  initial="America/New_York",
                                  error_messages={"invalid_choice": "Choose a time zone from the list."})
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=15, max_value=1440, initial=240)
    mode = forms.ChoiceField(label="Mode", choices=Interview.Mode.choices)
    thank_you_on = date_field("Thank-you note sent", required=False)
    letter_of_intent_on = date_field("Letter of intent sent", required=False)

    def clean(self):
        data = super().clean()
        if data.get("time") and not data.get("day"):
            self.add_error("day", "Give the date of the interview too.")
        return data

    def starts_local(self) -> datetime | None:
        day, time = self.cleaned_data.get("day"), self.cleaned_data.get("time")
        if day is None:
            return None
        return datetime.combine(day, time or datetime.min.time())

    @classmethod
    def initial_for(cls, interview: Interview | None) -> dict:
        if interview is None:
            return {}
        initial = {f: getattr(interview, f) for f in (
            "invited_on", "time_zone", "duration_minutes", "mode", "thank_you_on", "letter_of_intent_on")}
        if interview.starts_at:
            from zoneinfo import ZoneInfo

            local = interview.starts_at.astimezone(ZoneInfo(interview.time_zone))
            initial |= {"day": local.date(), "time": local.time()}
        return initial


class ScoresForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    """Short notes and a 1-5 score per criterion of the applicant's."""

    fallback_field = "notes"
    notes = forms.CharField(label="Notes (short, best the same day)", required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, criteria: list[Criterion], **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        choices = [("", "Not scored")] + [(str(n), str(n)) for n in range(1, 6)]
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"{criterion.name} (weight {criterion.weight})", choices=choices, required=False,
                coerce=int, empty_value=None,
            )

    def scores(self) -> dict[int, int | None]:
        return {c.pk: self.cleaned_data.get(f"score_{c.pk}") for c in self.criteria}


class CriterionForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "name"
    name = forms.CharField(label="Criterion", max_length=80)
    weight = forms.IntegerField(label="Weight (1-10)", min_value=1, max_value=10, initial=1)


class AddProgramForm(FieldTemplate, forms.Form):
    q = forms.CharField(label="Find a program by name, city or NRMP code", max_length=200, required=False)


class LetterForm(FieldTemplate, ServiceErrorsMixin, forms.ModelForm):
    fallback_field = "writer"
    asked_on = date_field("Asked on", required=False)
    nudge_on = date_field("Nudge me if not uploaded by", required=False,
                          help_text="You get a reminder that day if the letter is still not uploaded.")
    uploaded_on = date_field("Uploaded on", required=False)

    class Meta:
        model = Letter
        fields = ["writer", "writer_role", "writer_email", "specialty", "status", "asked_on", "nudge_on",
                  "uploaded_on", "note"]
        labels = {"writer": "Writer's name", "writer_role": "Role", "writer_email": "Writer's email (optional)",
                  "specialty": "Specialty (empty: a general letter)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].queryset = Specialty.objects.order_by("name")
        self.fields["specialty"].empty_label = "General letter"


class AssignForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "application"
    application = forms.ModelChoiceField(queryset=Application.objects.none(), label="Program",
                                         error_messages={"invalid_choice": "Choose a program on your list."})

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications
        self.fields["application"].label_from_instance = lambda a: a.program.name


class PaymentForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    fallback_field = "amount_usd"
    key = forms.ChoiceField(label="What for", choices=SeasonFee.Key.choices)
    service = forms.ChoiceField(label="Service", choices=[("", "Not applicable"), *Service.choices], required=False)
    amount_usd = forms.DecimalField(label="Amount paid (USD)", min_value=0, max_digits=8, decimal_places=2)
    paid_on = date_field("Paid on")
    note = forms.CharField(label="Note (optional)", required=False, max_length=500)
