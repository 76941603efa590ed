"""Forms of the applicant's pages: onboarding/profile, notification settings, milestone status and evidence.

Forms only check the shape of the input (types, ranges, plausible dates); the pathway rules (prerequisites,
attempt limits...) are checked by the services, whose ValidationErrors are put back next to the fields with
`add_service_error`.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import cache

from allauth.core import ratelimit
from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from milestones.models import (
    EARLIEST_DATE,
    REASON_MAX_LENGTH,
    USMLE_SCORE_MAX,
    USMLE_SCORE_MIN,
    ApplicantProfile,
    ApplicantType,
    MatchCycle,
    Milestone,
    SignalAllowance,
    USCEEntry,
)
from pathway.lib.times import applicant_today, today_in

from .already_done import add_already_done_fields, clean_already_done

DEFAULT_TIME_ZONE = "America/New_York"
MAX_SPECIALTIES = 12


class DateInput(forms.DateInput):
    """A native date picker; the value must be ISO for <input type=date> to show it."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        help_text=help_text,
        error_messages={"invalid": "Enter a real date as year-month-day, e.g. 2026-09-15."},
    )


def check_date_between(value: date | None, *, earliest: date, latest: date, what: str) -> None:
    if value is None:
        return
    if value < earliest:
        raise ValidationError(f"{what} cannot be before {earliest:%-d %b %Y}.")
    if value > latest:
        raise ValidationError(f"{what} cannot be after {latest:%-d %b %Y}.")


def years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/"))
    )
    return [(name, name.replace("_", " ")) for name in names]


def time_zone_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Your time zone",
        choices=time_zone_choices,
        help_text="Deadlines and 'days left' are shown in this time zone.",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )


class FieldGroup(BoundField):
    """as_field_group() inside a <div class="field">, so rows of fields lay out as units."""

    def as_field_group(self):
        invalid = " field-invalid" if self.errors else ""
        return format_html('<div class="field{}">{}</div>', invalid, super().as_field_group())


class FieldTemplate:
    """Fields wrapped for layout, and labels without a trailing colon."""

    bound_field_class = FieldGroup

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ServiceErrorsMixin:
    """Put a service's ValidationError next to the field it names (or on top of the form)."""

    fallback_field: str | None = None

    def add_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in self.fields else self.fallback_field
                self.add_error(target, errors)
        else:
            self.add_error(self.fallback_field, exc.messages)

    def accepted_by(self, service) -> bool:
        """Whether the form is valid and `service(cleaned_data)` (a service call) took it. A refusal, the
        service's ValidationError, goes next to the field it names, so the view shows the form again (422)
        exactly as for its own errors."""
        if not self.is_valid():
            return False
        try:
            service(self.cleaned_data)
        except ValidationError as exc:
            self.add_service_error(exc)
            return False
        return True


# --- Onboarding and profile ------------------------------------------------------------------------


def next_cycle() -> MatchCycle | None:
    """The first cycle whose Match Day is still ahead: the default target for a new applicant."""
    return (
        MatchCycle.objects.filter(events__key="match_day", events__at__gt=timezone.now())
        .order_by("year")
        .first()
    )


class CycleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ProfileForm(FieldTemplate, forms.ModelForm):
    """The few facts the pathway is planned from. Saving it (re)plans the milestones."""

    specialties = forms.MultipleChoiceField(
        label="Specialties you plan to apply to",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Used for signal counts and specialty-specific steps. Choose any that apply.",
    )
    other_specialties = forms.CharField(
        label="Other specialties",
        required=False,
        max_length=400,
        help_text="Not in the list? Separate them with commas, e.g. Dermatology, Neurology.",
    )
    time_zone = time_zone_field()

    # Changing one of these changes which milestones apply and when they are due (graduation-anchored
    # deadlines are on the applicant's own clock, hence the time zone).
    PLANNING_FIELDS = (
        "applicant_type",
        "graduation_date",
        "needs_visa",
        "visa_route",
        "target_cycle",
        "time_zone",
    )

    class Meta:
        model = ApplicantProfile
        fields = [
            "applicant_type",
            "graduation_date",
            "needs_visa",
            "visa_route",
            "nationality",
            "target_cycle",
            "time_zone",
        ]
        labels = {
            "applicant_type": "Which describes you?",
            "graduation_date": "Medical school graduation date (expected or past)",
            "needs_visa": "I will need a US visa for residency",
            "visa_route": "Visa route",
            "nationality": "Nationality (optional)",
            "target_cycle": "Target Match",
        }
        help_texts = {
            "visa_route": "Only when you need a visa. J-1 is sponsored by ECFMG; H-1B needs Step 3 before residency.",
            "target_cycle": "The Match you will apply to; the 2027 Match runs from June 2026 to March 2027.",
            "nationality": "Country of citizenship, e.g. Nigeria. Used only to warn you if a US travel ban "
            "suspends the visa your route needs.",
        }
        widgets = {"graduation_date": DateInput(), "applicant_type": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["graduation_date"].error_messages["invalid"] = (
            "Enter a real date as year-month-day, e.g. 2025-06-30."
        )
        self.fields["applicant_type"].error_messages["required"] = "Choose the description that fits you."
        self.fields["applicant_type"].choices = ApplicantType.choices  # radio buttons need no blank choice
        self.fields["visa_route"].choices = [("", "No visa needed")] + list(
            self.fields["visa_route"].choices
        )[1:]
        current = self.instance.target_cycle_id if self.instance.pk else None
        cycles = MatchCycle.objects.filter(events__key="match_day", events__at__gt=timezone.now())
        if current:
            cycles = cycles | MatchCycle.objects.filter(pk=current)
        self.fields["target_cycle"] = CycleChoiceField(
            queryset=cycles.distinct().order_by("year"),
            label=self._meta.labels["target_cycle"],
            help_text=self._meta.help_texts["target_cycle"],
            empty_label=None,
            error_messages={"invalid_choice": "Choose one of the Matches in the list."},
        )
        if not self.instance.pk:
            default_cycle = next_cycle()
            self.initial["target_cycle"] = self.initial.get("target_cycle") or (
                default_cycle and default_cycle.pk
            )
            self.initial["time_zone"] = self.initial.get("time_zone") or DEFAULT_TIME_ZONE
            add_already_done_fields(self, date_field)
        known = list(
            SignalAllowance.objects.order_by("specialty").values_list("specialty", flat=True).distinct()
        )
        self.fields["specialties"].choices = [(name, name) for name in known]
        chosen = self.instance.specialties or []
        self.initial.setdefault("specialties", [s for s in chosen if s in known])
        self.initial.setdefault("other_specialties", ", ".join(s for s in chosen if s not in known))

    def clean_graduation_date(self):
        value = self.cleaned_data["graduation_date"]
        check_date_between(
            value,
            earliest=EARLIEST_DATE,
            latest=years_from(today_in(None), 6),
            what="The graduation date",
        )
        return value

    def clean_other_specialties(self):
        names = [" ".join(part.split()) for part in self.cleaned_data["other_specialties"].split(",")]
        names = [name for name in names if name]
        for name in names:
            if len(name) > 80:
                raise ValidationError(
                    f"“{name[:30]}…” is too long for a specialty name (80 characters at most)."
                )
        return names

    def clean(self):
        cleaned = super().clean()
        names = list(dict.fromkeys([*cleaned.get("specialties", []), *cleaned.get("other_specialties", [])]))
        if len(names) > MAX_SPECIALTIES:
            self.add_error("other_specialties", f"Choose at most {MAX_SPECIALTIES} specialties.")
        self.instance.specialties = names
        clean_already_done(self, cleaned)
        return cleaned

    def needs_replanning(self) -> bool:
        return not self.instance.pk or any(name in self.changed_data for name in self.PLANNING_FIELDS)


# --- Notification settings ------------------------------------------------------------------------


class NotificationForm(FieldTemplate, forms.ModelForm):
    lead_mode = forms.ChoiceField(
        label="When to remind you",
        choices=[
            ("defaults", "Use each milestone's recommended lead times"),
            ("custom", "Use my own lead times for every milestone"),
        ],
        widget=forms.RadioSelect,
        initial="defaults",
    )
    lead_days = forms.CharField(
        label="Your lead times, in days before each deadline",
        required=False,
        max_length=200,
        help_text="Whole numbers from 1 to 365 separated by commas, e.g. 30, 7, 1.",
    )
    time_zone = time_zone_field()

    class Meta:
        model = ApplicantProfile
        fields = ["email_reminders", "daily_digest", "time_zone"]
        labels = {
            "email_reminders": "Send me email reminders before deadlines",
            "daily_digest": "Group the day's reminders into one daily email",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.reminder_lead_days:
            self.initial.setdefault("lead_mode", "custom")
            self.initial.setdefault("lead_days", ", ".join(str(d) for d in self.instance.reminder_lead_days))

    def clean_lead_days(self):
        text = self.cleaned_data["lead_days"]
        days = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            # isdecimal, not isdigit: "²" and "①" are digits that int() cannot read (a 500 once);
            # decimal digits of any script (Arabic-Indic "٣٠") are real numbers and are read.
            if not part.isdecimal():
                raise ValidationError(f"“{part}” is not a whole number of days.")
            number = int(part)
            if not 1 <= number <= 365:
                raise ValidationError(f"{number} is out of range: use 1 to 365 days.")
            days.append(number)
        if len(set(days)) > 10:
            raise ValidationError("Use at most 10 lead times.")
        return sorted(set(days), reverse=True)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("lead_mode") == "custom":
            if "lead_days" in cleaned and not cleaned["lead_days"]:
                self.add_error("lead_days", "Enter at least one lead time, or use the recommended ones.")
            self.instance.reminder_lead_days = cleaned.get("lead_days") or None
        else:
            self.instance.reminder_lead_days = None
        return cleaned


# --- Milestone status and evidence ------------------------------------------------------------------


class MilestoneForm(FieldTemplate, ServiceErrorsMixin, forms.Form):
    """A form posted from the milestone page; `context_name` is its name in the page's context."""

    context_name = ""

    def __init__(self, *args, milestone: Milestone, **kwargs):
        kwargs.setdefault("prefix", self.prefix)
        super().__init__(*args, **kwargs)
        self.milestone = milestone

    @cached_property
    def today(self) -> date:
        """The applicant's today: the same day the services judge dates against."""
        return applicant_today(self.milestone.applicant)


def not_in_future(value: date | None, what: str, *, today: date) -> None:
    check_date_between(value, earliest=EARLIEST_DATE, latest=today, what=what)


class StatusForm(MilestoneForm):
    context_name = "status_form"
    prefix = "status"
    fallback_field = "status"

    status = forms.ChoiceField(
        label="Status",
        choices=Milestone.Status.choices,
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    reason = forms.CharField(
        label="Why it does not apply to you",
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="Needed only when you mark it waived.",
    )
    completed_on = date_field(
        "Date completed", required=False, help_text="When you finished it. Leave empty for today."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("status", self.milestone.status)
        self.initial.setdefault("reason", self.milestone.waived_reason)
        self.initial.setdefault("completed_on", self.milestone.completed_on)

    def clean_completed_on(self):
        value = self.cleaned_data["completed_on"]
        not_in_future(value, "The completion date", today=self.today)
        return value

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        # A reason refused by its own field (e.g. a NUL character) already has its message.
        if status == Milestone.Status.WAIVED and "reason" in cleaned and not cleaned["reason"].strip():
            self.add_error("reason", "Say why this step does not apply to you, so your advisor can check it.")
        if status != Milestone.Status.DONE:
            cleaned["completed_on"] = None  # a date left in the field from before has no meaning now
        return cleaned


SCORE_RANGE_MESSAGE = f"A USMLE score is between {USMLE_SCORE_MIN} and {USMLE_SCORE_MAX}."
PASSED_CHOICES = [("", "No result yet"), ("yes", "Passed"), ("no", "Failed")]


class ExamAttemptForm(MilestoneForm):
    context_name = "attempt_form"
    prefix = "attempt"
    fallback_field = "test_date"

    test_date = date_field("Test date")
    result_date = date_field("Result date", required=False, help_text="Leave empty until your result is out.")
    passed = forms.TypedChoiceField(
        label="Result",
        choices=PASSED_CHOICES,
        required=False,
        coerce=lambda value: value == "yes",
        empty_value=None,
        error_messages={"invalid_choice": "Choose passed, failed or no result yet."},
    )
    score = forms.IntegerField(
        label="Three-digit score",
        required=False,
        min_value=USMLE_SCORE_MIN,
        max_value=USMLE_SCORE_MAX,
        help_text=f"Step 2 CK and Step 3 report a score from {USMLE_SCORE_MIN} to {USMLE_SCORE_MAX}; "
        "Step 1 is pass/fail only.",
        error_messages={
            "invalid": "Enter the score as a whole number, e.g. 245.",
            "min_value": SCORE_RANGE_MESSAGE,
            "max_value": SCORE_RANGE_MESSAGE,
        },
    )
    applied_on = date_field(
        "Application date",
        required=False,
        help_text="When you applied for this exam, if you know it: the attempt rules of that date apply.",
    )
    retake_reason = forms.CharField(
        label="Why you are retaking a passed Step",
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="Only for a Step you already passed: USMLE allows it only to meet a state board's requirement.",
    )

    def clean_test_date(self):
        value = self.cleaned_data["test_date"]
        check_date_between(
            value, earliest=EARLIEST_DATE, latest=years_from(self.today, 2), what="The test date"
        )
        return value

    def clean_result_date(self):
        value = self.cleaned_data["result_date"]
        not_in_future(value, "The result date", today=self.today)
        return value

    def clean(self):
        cleaned = super().clean()
        test_date, result_date = cleaned.get("test_date"), cleaned.get("result_date")
        if test_date and result_date and result_date < test_date:
            self.add_error("result_date", "The result date cannot be before the test date.")
        # A score without a passed/failed choice is judged from the score by the service (the passing
        # standard in force on the test date), as the API does; a contradiction is refused there.
        return cleaned


OET_SCORE_ERRORS = {
    "invalid": "Enter the score as a whole number from 0 to 500.",
    "min_value": "OET scores run from 0 to 500.",
    "max_value": "OET scores run from 0 to 500.",
}


def oet_score(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=500, error_messages=OET_SCORE_ERRORS)


class OETResultForm(MilestoneForm):
    context_name = "oet_form"
    prefix = "oet"
    fallback_field = "test_date"

    test_date = date_field("Test date")
    listening = oet_score("Listening")
    reading = oet_score("Reading")
    speaking = oet_score("Speaking")
    writing = oet_score("Writing")
    candidate_number = forms.CharField(label="Candidate number", required=False, max_length=40)

    def clean_test_date(self):
        value = self.cleaned_data["test_date"]
        not_in_future(value, "The test date", today=self.today)
        return value


class DocumentForm(MilestoneForm):
    context_name = "document_form"
    prefix = "document"
    fallback_field = "label"

    label = forms.CharField(
        label="What it is", max_length=120, help_text="e.g. USMLE/ECFMG ID, NRMP code, DS-2019."
    )
    reference = forms.CharField(label="Number or reference", required=False, max_length=120)
    date = date_field("Date", required=False, help_text="When it was issued, submitted or confirmed.")
    note = forms.CharField(
        label="Note", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_date(self):
        value = self.cleaned_data["date"]
        check_date_between(value, earliest=EARLIEST_DATE, latest=years_from(self.today, 10), what="The date")
        return value


class USCEForm(MilestoneForm):
    context_name = "usce_form"
    prefix = "usce"
    fallback_field = "start_date"

    kind = forms.ChoiceField(
        label="Type",
        choices=USCEEntry.Kind.choices,
        error_messages={"invalid_choice": "Choose a type from the list."},
    )
    hands_on = forms.BooleanField(label="Hands-on (you examined and managed patients)", required=False)
    specialty = forms.CharField(label="Specialty", max_length=80)
    site = forms.CharField(label="Hospital or clinic, city and state", max_length=160)
    supervisor = forms.CharField(label="Supervisor", required=False, max_length=120)
    start_date = date_field("Start date")
    end_date = date_field("End date")

    def _check_date(self, name: str, what: str) -> date:
        value = self.cleaned_data[name]
        check_date_between(value, earliest=EARLIEST_DATE, latest=years_from(self.today, 2), what=what)
        return value

    def clean_start_date(self):
        return self._check_date("start_date", "The start date")

    def clean_end_date(self):
        return self._check_date("end_date", "The end date")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date cannot be before the start date.")
        return cleaned


class NoteForm(MilestoneForm):
    context_name = "note_form"
    prefix = "note"
    fallback_field = "note"

    note = forms.CharField(
        label="Your notes",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Private: an advisor sees them only if you share your notes with them. 5,000 characters at most.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("note", self.milestone.note)


EVIDENCE_FORMS = {
    "exam": ExamAttemptForm,
    "oet": OETResultForm,
    "document": DocumentForm,
    "usce": USCEForm,
}


# --- Account deletion ---------------------------------------------------------------------------


class DeleteAccountForm(FieldTemplate, forms.Form):
    email = forms.EmailField(
        label="Type your email address to confirm",
        help_text="This deletes your account, your pathway and everything you entered. It cannot be undone.",
    )
    # Someone at a computer left signed in must not be able to delete the account.
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to confirm it is you."},
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = request.user

    def clean_password(self):
        value = self.cleaned_data["password"]
        # allauth's reauthentication limit (10 a minute per user), shared with its own password prompts:
        # an open session is no place to guess the password.
        if not ratelimit.consume(self.request, action="reauthenticate", user=self.user):
            raise ValidationError("Too many attempts. Wait a minute, then try again.")
        if not self.user.check_password(value):
            raise ValidationError("That is not the password of this account.")
        return value

    def clean_email(self):
        value = self.cleaned_data["email"]
        if value.strip().lower() != self.user.email.lower():
            raise ValidationError("That is not the email address of this account.")
        return value
