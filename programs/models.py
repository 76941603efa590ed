"""The program directory: specialties, institutions, programs and their requirements as dated, sourced claims.

Nothing here is shipped data about real programs (ACGME, NRMP, FREIDA, ERAS and Residency Explorer forbid
republishing theirs): rows come from imports a deployment makes, from applicants and advisors, and from the
clearly fictional demo set. Every requirement is a claim with its source, the day it was observed, who
entered it and who verified it; "unknown" is a value of its own and never counts as a pass.

The public interface (QuerySet methods and services) is described in programs/INTERFACE.md.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from milestones.models import Confidence

from .codes import US_STATES, ProgramType, validate_acgme_id, validate_nrmp_code
from .querysets import ClaimQuerySet, ProgramQuerySet, ReportQuerySet
from .requirements import (  # noqa: F401 (re-exported for the faces)
    NUMBER_LIMITS,
    SUMMARY_FIELDS,
    VALUE_KINDS,
    ClaimState,
    Requirement,
    SourceKind,
    ValueKind,
    summary_value,
)

SOURCE_URL_MAX = 500
NOTE_MAX = 500


class Service(models.TextChoices):
    """The application service a specialty's programs take applications through."""

    ERAS = "ERAS", "ERAS (AAMC)"
    RESIDENCYCAS = "ResidencyCAS", "ResidencyCAS (Liaison)"


class Specialty(models.Model):
    """A specialty keyed by its 3-digit ACGME specialty code (characters 5-7 of an NRMP program code)."""

    acgme_code = models.CharField(
        max_length=3, unique=True, validators=[RegexValidator(r"^\d{3}$", "Three digits, e.g. 140.")]
    )
    name = models.CharField(max_length=120)
    application_service = models.CharField(max_length=20, choices=Service.choices, default=Service.ERAS)
    service_since_cycle = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="First Match year the specialty used this service, if it changed."
    )
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.SECONDARY)
    source_url = models.URLField(max_length=SOURCE_URL_MAX)
    service_source_url = models.URLField(max_length=SOURCE_URL_MAX, blank=True)
    last_verified = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self):
        return f"{self.name} ({self.acgme_code})"


class Institution(models.Model):
    """A sponsoring institution. Its NRMP code is the first four characters of its programs' codes; it is
    not unique here because every fictional demo institution shares the example prefix 9999."""

    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, choices=US_STATES, blank=True)
    nrmp_code = models.CharField(
        max_length=4, blank=True, validators=[RegexValidator(r"^\d{4}$", "Four digits.")]
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "state"], name="unique_institution_per_state")]

    def __str__(self):
        return f"{self.name}, {self.state}" if self.state else self.name


class Origin(models.TextChoices):
    IMPORT = "import", "Imported"
    APPLICANT = "applicant", "Added by an applicant"
    ADMIN = "admin", "Entered in the admin"
    DEMO = "demo", "Fictional demo"


class Program(models.Model):
    """A residency program. `listed` programs are in everyone's directory; a program an applicant added
    stays visible to them (and advisors and admins) only, until an admin lists it."""

    nrmp_code = models.CharField(
        max_length=11, unique=True, null=True, blank=True, validators=[validate_nrmp_code],
        help_text="9-11 characters: institution (4 digits), ACGME specialty (3), type letter, track (1-3 digits).",
    )
    # Parsed from the code on save (programs.codes.parse_nrmp_code), kept for filtering.
    program_type = models.CharField(max_length=1, choices=ProgramType.choices, blank=True)
    track = models.CharField(max_length=3, blank=True)
    acgme_id = models.CharField(max_length=10, blank=True, validators=[validate_acgme_id])
    name = models.CharField(max_length=200)
    eras_name = models.CharField("ERAS name", max_length=200, blank=True)
    nrmp_name = models.CharField("NRMP name", max_length=200, blank=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="programs"
    )
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, choices=US_STATES, blank=True)
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, null=True, blank=True, related_name="programs")
    positions = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Positions per cycle.")
    listed = models.BooleanField(default=True, help_text="Shown in everyone's directory.")
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.ADMIN)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Provenance of the non-requirement fields (name, city, positions...): the last import or entry.
    source_url = models.URLField(max_length=SOURCE_URL_MAX, blank=True)
    observed_on = models.DateField(null=True, blank=True)
    # The current claims' values, copied here by RequirementClaim.save/delete for the SQL filters
    # (programs.requirements.summary_value: NULL = unknown). Never edited by hand; not in the history.
    req_visa_j1 = models.BooleanField(null=True, editable=False)
    req_visa_h1b = models.BooleanField(null=True, editable=False)
    req_max_years = models.PositiveSmallIntegerField(null=True, editable=False)
    req_min_step2ck = models.PositiveSmallIntegerField(null=True, editable=False)
    req_max_attempts = models.PositiveSmallIntegerField(null=True, editable=False)
    req_usce_months = models.PositiveSmallIntegerField(null=True, editable=False)
    req_ecfmg_by = models.DateField(null=True, editable=False)
    req_step3_before_ranking = models.BooleanField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=[
        "req_visa_j1", "req_visa_h1b", "req_max_years", "req_min_step2ck", "req_max_attempts", "req_usce_months",
        "req_ecfmg_by", "req_step3_before_ranking",
    ])

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            # The directory's order: a page of 25 walks this index and stops, instead of sorting every match.
            models.Index(fields=["name", "id"], name="program_name_idx"),
            models.Index(fields=["state"], name="program_state_idx"),
            models.Index(fields=["specialty", "state"], name="program_specialty_state_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.nrmp_code})" if self.nrmp_code else self.name

    def save(self, *args, **kwargs):
        from .codes import parse_nrmp_code

        if self.nrmp_code:
            parsed = parse_nrmp_code(self.nrmp_code)
            self.program_type, self.track = parsed.program_type, parsed.track
        super().save(*args, **kwargs)


class RequirementClaim(models.Model):
    """The current claim about one requirement of one program, with its provenance. Every change is kept
    in its history (django-simple-history), so the program page shows how the claim evolved.

    Values: `state` says whether the requirement is stated with a value (`known`, the value in the one
    column its kind uses), stated as absent (`none`: no minimum, no limit, not needed) or `unknown`.
    A yes/no requirement is never `none`: "no" is a value.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="claims")
    requirement = models.CharField(max_length=32, choices=Requirement.choices)
    state = models.CharField(max_length=8, choices=ClaimState.choices, default=ClaimState.UNKNOWN)
    value_bool = models.BooleanField(null=True, blank=True)
    value_int = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(300)])
    value_date = models.DateField(null=True, blank=True)
    value_text = models.CharField(max_length=NOTE_MAX, blank=True)
    source_url = models.URLField(max_length=SOURCE_URL_MAX, blank=True)
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    observed_on = models.DateField(help_text="When the source was read.")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The advisor or admin who checked the claim against its source.",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["program", "requirement"]
        constraints = [
            models.UniqueConstraint(fields=["program", "requirement"], name="one_claim_per_requirement"),
            models.CheckConstraint(
                condition=~Q(state="known") | Q(value_bool__isnull=False) | Q(value_int__isnull=False)
                | Q(value_date__isnull=False) | ~Q(value_text=""),
                name="known_claim_has_a_value",
            ),
        ]

    def __str__(self):
        return f"{self.get_requirement_display()}: {self.display_value} ({self.program})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._copy_to_program(summary_value(self.requirement, self.state, self.value_bool, self.value_int,
                                            self.value_date))

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._copy_to_program(None)
        return result

    def _copy_to_program(self, value) -> None:
        field = SUMMARY_FIELDS.get(self.requirement)
        if field:
            Program.objects.filter(pk=self.program_id).update(**{field: value})

    @property
    def kind(self) -> str:
        return VALUE_KINDS[self.requirement]

    @property
    def is_unknown(self) -> bool:
        return self.state == ClaimState.UNKNOWN

    @property
    def display_value(self) -> str:
        from .values import format_value

        return format_value(self)

    def is_stale(self, today: date | None = None, settings_row: DirectorySettings | None = None) -> bool:
        settings_row = settings_row or DirectorySettings.current()
        today = today or timezone.localdate()
        return self.observed_on < today - timedelta(days=settings_row.stale_after_days)


class DirectorySettings(models.Model):
    """The directory's admin-editable settings (one row)."""

    stale_after_days = models.PositiveSmallIntegerField(
        default=365, validators=[MinValueValidator(1)],
        help_text="A claim observed longer ago than this shows as stale (default: one season).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "directory settings"

    def __str__(self):
        return f"Claims stale after {self.stale_after_days} days"

    @classmethod
    def current(cls) -> DirectorySettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class OutdatedReport(models.Model):
    """'This requirement is outdated': a report in the review queue. An advisor or admin accepts it (the
    claim is updated, with the report's source) or dismisses it."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for review"
        ACCEPTED = "accepted", "Accepted (claim updated)"
        DISMISSED = "dismissed", "Dismissed"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="reports")
    requirement = models.CharField(max_length=32, choices=Requirement.choices)
    proposed_value = models.CharField(
        max_length=NOTE_MAX, blank=True,
        help_text="What the reporter read, in the import's cell format (yes, no, 240, none, 2027-02-15); "
        "empty = the requirement is now unknown.",
    )
    message = models.TextField(max_length=2000, blank=True)
    source_url = models.URLField(max_length=SOURCE_URL_MAX, blank=True)
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices, default=SourceKind.PROGRAM_WEBSITE)
    observed_on = models.DateField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=NOTE_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="report_status_idx")]

    def __str__(self):
        return f"Report on {self.get_requirement_display()} of {self.program}"


class ApplicantProgram(models.Model):
    """A program an applicant is applying to (their own list)."""

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="my_programs")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="applicants")
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["applicant", "program"], name="one_entry_per_program")]

    def __str__(self):
        return f"{self.program} on {self.applicant}'s list"


class ProgramImport(models.Model):
    """An uploaded CSV: checked (dry run) when uploaded, applied when confirmed (the admin's two steps)."""

    class Status(models.TextChoices):
        CHECKED = "checked", "Checked (dry run)"
        FAILED = "failed", "Has errors: nothing imported"
        APPLIED = "applied", "Imported"

    file_name = models.CharField(max_length=200)
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKED)
    report = models.JSONField(default=dict, blank=True, help_text="Row errors or counts of the last run.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"
