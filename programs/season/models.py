"""Models of the application season. The app label is `programs` (the migrations are the programs app's).

Season rules are data rows (`SeasonFee`, `SeasonSignalAllowance`) loaded from programs/data/season.yaml,
each with its source and whether it is confirmed or projected; nothing here hard-codes a fee or a limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from milestones.models import Confidence, Delivery, MatchCycle, validate_time_zone

from ..models import NOTE_MAX, SOURCE_URL_MAX, ApplicantProgram, Program, Service, Specialty
from .querysets import ApplicationQuerySet


class Status(models.TextChoices):
    """Where one application stands. The order is the pipeline's."""

    CONSIDERING = "considering", "Considering"
    APPLIED = "applied", "Applied"
    INVITED = "invited", "Interview invited"
    SCHEDULED = "scheduled", "Interview scheduled"
    INTERVIEWED = "interviewed", "Interviewed"
    RANKED = "ranked", "Ranked"
    NOT_RANKED = "not_ranked", "Not ranked"
    MATCHED = "matched", "Matched"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Signal(models.TextChoices):
    NONE = "", "No signal"
    GOLD = "gold", "Gold signal"
    SILVER = "silver", "Silver signal"
    SIGNAL = "signal", "Signal (single tier)"


class Application(models.Model):
    """One program on an applicant's list for one Match cycle. Linked to the directory's own-list row
    (`ApplicantProgram`), which stays the cycle-free "programs I follow"; an applicant re-applying next
    cycle gets a new Application for the same program."""

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applications")
    cycle = models.ForeignKey(MatchCycle, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="applications")
    entry = models.ForeignKey(
        ApplicantProgram, on_delete=models.SET_NULL, null=True, blank=True, related_name="applications"
    )
    # The service the application goes through, fixed when added (a specialty may move service later).
    service = models.CharField(max_length=20, choices=Service.choices, default=Service.ERAS)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONSIDERING)
    status_changed_at = models.DateTimeField(default=timezone.now)
    signal = models.CharField(max_length=8, choices=Signal.choices, blank=True, default="")
    notes = models.TextField(max_length=4000, blank=True)
    # What the program asks for (from its website): the letters page warns when fewer are assigned.
    letters_required = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)], help_text="Letters the program asks for."
    )
    added_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["program__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["applicant", "cycle", "program"], name="one_application_per_cycle"),
        ]
        indexes = [models.Index(fields=["applicant", "cycle", "status"], name="application_status_idx")]

    def __str__(self):
        return f"{self.program} ({self.cycle.year}) for {self.applicant}"


class StatusChange(models.Model):
    """The dated history of an application: every status change (and its creation, from_status empty)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status} at {self.at:%Y-%m-%d}"


# --- Season rules as data ---------------------------------------------------------------------------


class SeasonFee(models.Model):
    """One fee of one season (Match year). `applications` rows carry per-specialty tiers
    ([{"from": 1, "to": 30, "fee_usd": 11}, {"from": 1, "to": 18, "fee_usd_total": 99}, ...]); the others a
    flat `amount_usd` (empty: amount not found) with `free_units` (e.g. 20 program codes included)."""

    class Key(models.TextChoices):
        APPLICATIONS = "applications", "Applications (per specialty)"
        TRANSCRIPT = "usmle_transcript", "USMLE transcript (once per season)"
        NRMP_REGISTRATION = "nrmp_registration", "NRMP registration"
        NRMP_EXTRA_CODE = "nrmp_extra_code", "NRMP extra program code"
        NRMP_LATE = "nrmp_late", "NRMP late registration"

    cycle_year = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=24, choices=Key.choices)
    service = models.CharField(max_length=20, choices=Service.choices, blank=True)
    amount_usd = models.PositiveIntegerField(null=True, blank=True)
    tiers = models.JSONField(default=list, blank=True)
    free_units = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)
    source_url = models.URLField(max_length=SOURCE_URL_MAX)
    last_verified = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["cycle_year", "key", "service"]
        constraints = [
            models.UniqueConstraint(fields=["cycle_year", "key", "service"], name="one_fee_per_season_key_service"),
        ]

    def __str__(self):
        return f"{self.get_key_display()} {self.service} ({self.cycle_year})".replace("  ", " ")


class SeasonSignalAllowance(models.Model):
    """How many signals one specialty allows through one service in one season. gold/silver empty = one tier."""

    cycle_year = models.PositiveSmallIntegerField()
    service = models.CharField(max_length=20, choices=Service.choices, default=Service.ERAS)
    specialty = models.ForeignKey(Specialty, on_delete=models.CASCADE, related_name="signal_allowances")
    gold = models.PositiveSmallIntegerField(null=True, blank=True)
    silver = models.PositiveSmallIntegerField(null=True, blank=True)
    total = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)
    source_url = models.URLField(max_length=SOURCE_URL_MAX)
    last_verified = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["cycle_year", "specialty__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle_year", "service", "specialty"], name="one_signal_allowance_per_season"
            ),
        ]

    def __str__(self):
        return f"{self.specialty.name}: {self.total} signals ({self.service}, {self.cycle_year})"

    @property
    def tiered(self) -> bool:
        return self.gold is not None


class SeasonLimit(models.Model):
    """A numeric limit of one season: letters per program, ranks per rank order list, SOAP applications..."""

    class Key(models.TextChoices):
        LETTERS_PER_PROGRAM = "letters_per_program", "Letters assigned to one program"
        ROL_RANKS = "rol_ranks", "Ranks on one rank order list"
        SOAP_APPLICATIONS = "soap_applications", "SOAP applications"

    cycle_year = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=32, choices=Key.choices)
    value = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)
    source_url = models.URLField(max_length=SOURCE_URL_MAX)
    last_verified = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["cycle_year", "key"]
        constraints = [models.UniqueConstraint(fields=["cycle_year", "key"], name="one_limit_per_season_key")]

    def __str__(self):
        return f"{self.get_key_display()}: {self.value} ({self.cycle_year})"


class Payment(models.Model):
    """What the applicant actually paid for a season's fee."""

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="season_payments")
    cycle = models.ForeignKey(MatchCycle, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=24, choices=SeasonFee.Key.choices)
    service = models.CharField(max_length=20, choices=Service.choices, blank=True)
    amount_usd = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    paid_on = models.DateField()
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paid_on", "pk"]

    def __str__(self):
        return f"${self.amount_usd} on {self.paid_on}"


# --- Letters -------------------------------------------------------------------------------------


class Letter(models.Model):
    """A letter of recommendation for one season, from one writer."""

    class Status(models.TextChoices):
        ASKED = "asked", "Asked"
        AGREED = "agreed", "Agreed"
        REQUESTED = "requested", "Requested in the AAMC letter portal"
        UPLOADED = "uploaded", "Uploaded"
        ASSIGNED = "assigned", "Assigned to programs"

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="letters")
    cycle = models.ForeignKey(MatchCycle, on_delete=models.PROTECT, related_name="+")
    writer = models.CharField(max_length=200)
    writer_email = models.EmailField(blank=True)
    writer_role = models.CharField(max_length=200, blank=True, help_text="E.g. Program director, Internal Medicine.")
    # Empty = a general letter; otherwise specialty-specific.
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ASKED)
    asked_on = models.DateField(null=True, blank=True)
    nudge_on = models.DateField(null=True, blank=True, help_text="Remind me to nudge if not uploaded by this day.")
    uploaded_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Letter from {self.writer}"

    @property
    def is_uploaded(self) -> bool:
        return self.status in (self.Status.UPLOADED, self.Status.ASSIGNED)


class LetterAssignment(models.Model):
    """A letter sent to one program (at most 4 per program: the limit is season data, enforced by the
    service under a row lock on the application)."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="assignments")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="letter_assignments")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["letter", "application"], name="one_assignment_per_pair")]

    def __str__(self):
        return f"{self.letter} → {self.application.program}"


# --- Interviews ----------------------------------------------------------------------------------


class Interview(models.Model):
    """The interview of one application. `starts_at` is an aware instant; `time_zone` is the zone it was
    given in (the program's), which pages show beside the applicant's own."""

    class Mode(models.TextChoices):
        VIRTUAL = "virtual", "Virtual"
        IN_PERSON = "in_person", "In person"

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="interview")
    invited_on = models.DateField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        default=240, validators=[MinValueValidator(15), MaxValueValidator(24 * 60)]
    )
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.VIRTUAL)
    thank_you_on = models.DateField(null=True, blank=True)
    letter_of_intent_on = models.DateField(null=True, blank=True)
    notes = models.TextField(max_length=2000, blank=True, help_text="Short notes, best written the same day.")
    notes_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]

    def __str__(self):
        return f"Interview at {self.application.program}"


class Criterion(models.Model):
    """One of the applicant's own criteria for judging programs, with its weight."""

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=80)
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(10)])
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["applicant", "name"], name="unique_criterion_name")]

    def __str__(self):
        return f"{self.name} (×{self.weight})"


class InterviewScore(models.Model):
    """The applicant's score (1-5) for one interview on one criterion."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="scores")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interview", "criterion"], name="one_score_per_criterion")]

    def __str__(self):
        return f"{self.criterion.name}: {self.score}"


# --- Reminders of the season --------------------------------------------------------------------------


class SeasonReminder(Delivery):
    """An email about an interview (the day before, at the reminders' hour on the applicant's clock) or a
    letter not uploaded by its nudge day. Planned and sent like the deadline reminders (same hour, same
    on/off switch and unsubscribe link, same one Message-ID per row); the unique constraint makes planning
    idempotent, and a row whose interview moved or whose letter arrived is cancelled, never sent. Its
    delivery holds a row lock instead of the shared claim, and nothing retries it: no claim or retry columns."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Interview"
        LETTER_NUDGE = "letter_nudge", "Letter not uploaded"

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    due_at = models.DateTimeField(help_text="The interview's start, or the nudge day's reminder hour.")
    lead_days = models.PositiveSmallIntegerField(default=0)
    scheduled_for = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheduled_for", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "due_at", "lead_days"], condition=~models.Q(status="cancelled") & models.Q(interview__isnull=False),
                name="one_reminder_per_interview_start",
            ),
            models.UniqueConstraint(
                fields=["letter", "due_at", "lead_days"], condition=~models.Q(status="cancelled") & models.Q(letter__isnull=False),
                name="one_nudge_per_letter_day",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} reminder for {self.applicant}"
