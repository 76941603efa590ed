"""Forms of the directory: report outdated information, add a program to one's list, review a report.

They check the shape of the input; the services (programs.services.*) check the rest and their
ValidationErrors go back next to the fields (`add_service_error`). Values are typed as in the CSV import:
empty = unknown, yes/no, a whole number or "none", a date (2027-02-15) or "none".
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from milestones.models import EARLIEST_DATE
from programs.codes import US_STATES
from programs.models import NOTE_MAX, SOURCE_URL_MAX, Requirement, SourceKind
from programs.requirements import VALUE_KINDS, ValueKind
from programs.values import parse_value

# What a person may name as their source (imports and the demo are not a person's reading).
PERSON_SOURCES = [
    (value, label) for value, label in SourceKind.choices if value not in (SourceKind.IMPORT, SourceKind.DEMO)
]
VALUE_HELP = {
    ValueKind.YES_NO: "yes or no; leave empty if unknown.",
    ValueKind.NUMBER: "A whole number, or none (no limit / no minimum); leave empty if unknown.",
    ValueKind.DATE: "A date like 2027-02-15, or none (not needed); leave empty if unknown.",
    ValueKind.TEXT: "Free text.",
}
YES_NO_CHOICES = [("", "Unknown"), ("yes", "Yes"), ("no", "No")]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def observed_field(label: str = "When you read it", *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=DateInput(), help_text="Today if left empty.",
        error_messages={"invalid": "Enter a real date as year-month-day, e.g. 2026-11-15."},
    )


def clean_observed(value):
    """A reading is dated between the earliest date anything is recorded and today."""
    if value is None:
        return value
    if value < EARLIEST_DATE:
        raise ValidationError(f"The date cannot be before {EARLIEST_DATE:%-d %b %Y}.")
    if value > timezone.localdate():
        raise ValidationError("The date you read it cannot be in the future.")
    return value


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError next to the field it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class ReportForm(forms.Form):
    """'Report outdated information' about one requirement of a program."""

    requirement = forms.ChoiceField(label="Which requirement is outdated", choices=Requirement.choices)
    proposed_value = forms.CharField(
        label="What it is now", required=False, max_length=NOTE_MAX,
        help_text="As in the CSV import: yes/no, a whole number or none, a date (2027-02-15) or none; "
        "empty if it is now unknown.",
    )
    message = forms.CharField(label="What changed", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    source_url = forms.URLField(label="Where you read it (link)", required=False, max_length=SOURCE_URL_MAX, assume_scheme="https")
    source_kind = forms.ChoiceField(label="Kind of source", choices=PERSON_SOURCES, initial=SourceKind.PROGRAM_WEBSITE)
    observed_on = observed_field()

    def clean_observed_on(self):
        return clean_observed(self.cleaned_data["observed_on"])

    def clean(self):
        data = super().clean()
        requirement, value = data.get("requirement"), data.get("proposed_value", "")
        if requirement and value:
            try:
                parse_value(requirement, value)
            except ValidationError as error:
                self.add_error("proposed_value", error.messages)
        return data


def _claim_field(requirement: str) -> forms.Field:
    kind = VALUE_KINDS[requirement]
    label = Requirement(requirement).label
    if kind == ValueKind.YES_NO:
        return forms.ChoiceField(label=label, choices=YES_NO_CHOICES, required=False)
    if kind == ValueKind.TEXT:
        return forms.CharField(label=label, required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))
    return forms.CharField(label=label, required=False, max_length=20, help_text=VALUE_HELP[kind])


class AddProgramForm(forms.Form):
    """An applicant adds a program they apply to, by NRMP code or by name, with what they read about it."""

    nrmp_code = forms.CharField(
        label="NRMP program code", required=False, max_length=20,
        help_text="9-11 characters, e.g. 1234140C0 (from the program's NRMP listing).",
    )
    name = forms.CharField(label="Program name", required=False, max_length=200, help_text="Its ERAS or NRMP name.")
    state = forms.ChoiceField(label="State", choices=[("", "—"), *US_STATES], required=False)
    source_url = forms.URLField(label="Where you read it (link)", required=False, max_length=SOURCE_URL_MAX, assume_scheme="https")
    source_kind = forms.ChoiceField(label="Kind of source", choices=PERSON_SOURCES, initial=SourceKind.PROGRAM_WEBSITE)
    observed_on = observed_field()
    note = forms.CharField(label="Your note", required=False, max_length=NOTE_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for requirement in Requirement.values:
            self.fields[f"claim_{requirement}"] = _claim_field(requirement)

    def claim_fields(self):
        return [self[f"claim_{requirement}"] for requirement in Requirement.values]

    def clean_observed_on(self):
        return clean_observed(self.cleaned_data["observed_on"])

    def clean(self):
        data = super().clean()
        if not data.get("nrmp_code", "").strip() and not data.get("name", "").strip():
            raise ValidationError("Give the program's NRMP code or its name.")
        for requirement in Requirement.values:
            cell = data.get(f"claim_{requirement}", "")
            if cell:
                try:
                    parse_value(requirement, cell)
                except ValidationError as error:
                    self.add_error(f"claim_{requirement}", error.messages)
        return data

    def claims(self) -> dict[str, str]:
        return {r: self.cleaned_data[f"claim_{r}"] for r in Requirement.values if self.cleaned_data.get(f"claim_{r}")}


class AcceptForm(forms.Form):
    """Accept a report: the reviewer may correct the value, the source and the date."""

    value = forms.CharField(label="Value to record", required=False, max_length=NOTE_MAX,
                            help_text="Empty = the report's value.")
    source_url = forms.URLField(label="Source", required=False, max_length=SOURCE_URL_MAX, assume_scheme="https",
                                help_text="Empty = the report's source.")
    observed_on = observed_field("Observed on")
    note = forms.CharField(label="Note", required=False, max_length=NOTE_MAX)

    def clean_observed_on(self):
        return clean_observed(self.cleaned_data["observed_on"])


class DismissForm(forms.Form):
    note = forms.CharField(label="Why it is dismissed", required=False, max_length=NOTE_MAX)
