"""The pathway engine's data: Match cycles and their dated events, milestone templates (admin-edited),
applicant profiles, per-applicant milestones with evidence, the rule tables, and reminder deliveries.

Domain rules are rows, never literals in code: each rule row carries its source URL and whether it is
confirmed, from a secondary source, or projected.
"""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

# The score scales of the exams and the length of free-text reasons: fixed by the exams' formats, not
# rules that change by season, so they are constants, defined here once for the models, forms and API.
USMLE_SCORE_MIN, USMLE_SCORE_MAX = 1, 300
OET_SUBTEST_MAX = 500
REASON_MAX_LENGTH = 300
# Dates typed by people: nothing on a medical career path happened before this.
EARLIEST_DATE = date(1950, 1, 1)


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed (official source)"
    SECONDARY = "secondary", "Secondary source, not yet confirmed"
    PROJECTED = "projected", "Projected from past years' pattern"


class ApplicantType(models.TextChoices):
    US_MD = "US_MD", "US MD student or graduate"
    US_DO = "US_DO", "US DO student or graduate"
    US_IMG = "US_IMG", "US citizen international medical graduate"
    NON_US_IMG = "NON_US_IMG", "Non-US international medical graduate"


IMG_TYPES = (ApplicantType.US_IMG, ApplicantType.NON_US_IMG)


class VisaRoute(models.TextChoices):
    J1 = "J1", "J-1 (ECFMG-sponsored)"
    H1B = "H1B", "H-1B"


class Exam(models.TextChoices):
    STEP1 = "step1", "USMLE Step 1"
    STEP2CK = "step2ck", "USMLE Step 2 CK"
    STEP3 = "step3", "USMLE Step 3"


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known time zone (use a name like America/New_York).") from None


# --- Match cycles ------------------------------------------------------------------------------


class MatchCycle(models.Model):
    """A Match cycle, named after the March Match (the 2027 Match runs from June 2026 to July 2027)."""

    year = models.PositiveSmallIntegerField(unique=True, validators=[MinValueValidator(2000)])
    name = models.CharField(max_length=60)
    history = HistoricalRecords()

    class Meta:
        ordering = ["year"]

    def __str__(self):
        return self.name


class CycleEventQuerySet(models.QuerySet):
    def for_year(self, year: int):
        return self.filter(cycle__year=year).order_by("at")


class CycleEvent(models.Model):
    """A dated event of a cycle (ROL deadline, Match Day...). Stored as an aware datetime, defined in ET."""

    cycle = models.ForeignKey(MatchCycle, on_delete=models.CASCADE, related_name="events")
    key = models.SlugField(max_length=60, help_text="Stable identifier, e.g. nrmp_rol_deadline.")
    title = models.CharField(max_length=120)
    at = models.DateTimeField(help_text="When it happens (entered in US Eastern time).")
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)
    source_url = models.URLField(max_length=500)
    last_verified = models.DateField(null=True, blank=True, help_text="When the source was last checked.")
    note = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    objects = CycleEventQuerySet.as_manager()

    class Meta:
        ordering = ["cycle__year", "at"]
        constraints = [models.UniqueConstraint(fields=["cycle", "key"], name="unique_event_key_per_cycle")]

    def __str__(self):
        return f"{self.title} ({self.cycle.year})"

    @property
    def projected(self) -> bool:
        return self.status == Confidence.PROJECTED


# --- Templates ---------------------------------------------------------------------------------


class Phase(models.TextChoices):
    ELIGIBILITY = "eligibility", "Eligibility and registration"
    EXAMS = "exams", "Exams"
    CERTIFICATION = "certification", "ECFMG certification"
    APPLICATION = "application", "Application (ERAS)"
    MATCH = "match", "The Match"
    POST_MATCH = "post_match", "After the Match"
    CAREER = "career", "Residency and beyond"


class DeadlineKind(models.TextChoices):
    EVENT = "event", "Offset from a cycle event"
    MILESTONE = "milestone", "Offset from another milestone's deadline"
    APPLICANT = "applicant", "Offset from an applicant date"
    NONE = "none", "No deadline"


class EvidenceKind(models.TextChoices):
    EXAM = "exam", "USMLE exam attempts"
    OET = "oet", "OET Medicine results"
    DOCUMENT = "document", "Dates and reference numbers"
    USCE = "usce", "US clinical experience entries"
    NONE = "none", "Nothing beyond the status"


APPLICANT_DATE_ANCHORS = ("graduation_date",)


class MilestoneTemplate(models.Model):
    key = models.SlugField(max_length=60, unique=True, help_text="Stable identifier used by the API.")
    title = models.CharField(max_length=120)
    phase = models.CharField(max_length=20, choices=Phase.choices)
    order = models.PositiveIntegerField(default=100, help_text="Position along the path.")
    guidance = models.TextField(help_text="Plain-language guidance shown to applicants.")
    applies_to = models.JSONField(default=list, help_text="Applicant types, e.g. [\"US_IMG\", \"NON_US_IMG\"].")
    visa_route = models.CharField(
        max_length=4, choices=VisaRoute.choices, blank=True, help_text="Only for applicants needing this visa."
    )
    optional = models.BooleanField(default=False, help_text="Created only when the applicant opts in.")
    # SOAP: on every pathway, but only needed if the Match goes wrong, so never counted as behind.
    contingency = models.BooleanField(
        default=False, help_text="Only needed if something goes wrong (e.g. SOAP): never shown as overdue."
    )
    typical_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="Shortest sensible time, in days, to do this step once its hard prerequisites are done "
        "(used to judge whether the target Match is still within reach).",
    )
    deadline_kind = models.CharField(max_length=12, choices=DeadlineKind.choices, default=DeadlineKind.NONE)
    deadline_anchor = models.CharField(max_length=60, blank=True)
    deadline_offset_days = models.IntegerField(default=0)
    evidence = models.CharField(max_length=12, choices=EvidenceKind.choices, default=EvidenceKind.NONE)
    exam = models.CharField(max_length=8, choices=Exam.choices, blank=True)
    reminder_lead_days = models.JSONField(default=list, blank=True, help_text="Days before the deadline.")
    source_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "key"]

    def __str__(self):
        return self.title


class TemplatePrerequisite(models.Model):
    class Kind(models.TextChoices):
        HARD = "hard", "Hard (blocks completion)"
        SOFT = "soft", "Soft (advice only)"

    template = models.ForeignKey(MilestoneTemplate, on_delete=models.CASCADE, related_name="prerequisite_links")
    requires = models.ForeignKey(MilestoneTemplate, on_delete=models.CASCADE, related_name="dependent_links")
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.HARD)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "requires"], name="unique_prerequisite"),
            models.CheckConstraint(condition=~Q(template=models.F("requires")), name="no_self_prerequisite"),
        ]

    def __str__(self):
        return f"{self.template.key} needs {self.requires.key} ({self.kind})"


# --- Applicants --------------------------------------------------------------------------------


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class ApplicantProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    applicant_type = models.CharField(max_length=12, choices=ApplicantType.choices)
    graduation_date = models.DateField()
    needs_visa = models.BooleanField(default=False)
    visa_route = models.CharField(max_length=4, choices=VisaRoute.choices, blank=True)
    target_cycle = models.ForeignKey(MatchCycle, on_delete=models.PROTECT, related_name="applicants")
    specialties = models.JSONField(default=list, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    opted_in = models.JSONField(default=list, blank=True, help_text="Keys of optional milestones chosen.")
    # Optional: only used to warn about visa bans (TravelBanCountry); matched by country name.
    nationality = models.CharField(
        max_length=80, blank=True, help_text="Country of citizenship (optional; used only for visa warnings)."
    )
    # Notification settings (issue 5): None lead days = the templates' defaults.
    email_reminders = models.BooleanField(default=True)
    reminder_lead_days = models.JSONField(null=True, blank=True)
    daily_digest = models.BooleanField(default=False)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(default=timezone.now)
    # The calendar token is a credential (the feed's URL): the history would keep every past one.
    history = HistoricalRecords(excluded_fields=["calendar_token"])

    def __str__(self):
        return f"Profile of {self.user}"

    def clean(self):
        if self.needs_visa and not self.visa_route:
            raise ValidationError({"visa_route": "Choose the visa route (J-1 or H-1B)."})
        if not self.needs_visa and self.visa_route:
            raise ValidationError({"visa_route": "A visa route only applies when you need a visa."})

    @property
    def is_img(self) -> bool:
        return self.applicant_type in IMG_TYPES

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class MilestoneQuerySet(models.QuerySet):
    def applicable(self):
        return self.filter(is_applicable=True)

    def of_applicant(self, applicant):
        """The milestones on `applicant`'s pathway (a user or a user id), each with its template."""
        applicant_id = getattr(applicant, "pk", applicant)
        return self.applicable().filter(applicant_id=applicant_id).select_related("template")

    def open(self):
        return self.applicable().filter(status__in=[Milestone.Status.NOT_STARTED, Milestone.Status.IN_PROGRESS])

    def due_between(self, start, end):
        return self.open().filter(due_at__gte=start, due_at__lt=end)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def visible_to(self, user):
        return self.filter(applicant__in=get_user_model().objects.applicants_visible_to(user))


class Milestone(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WAIVED = "waived", "Waived"

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="milestones")
    template = models.ForeignKey(MilestoneTemplate, on_delete=models.PROTECT, related_name="milestones")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    waived_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    # Stored so dashboards and the reminder sweep can filter and sort in SQL.
    due_at = models.DateTimeField(null=True, blank=True)
    due_projected = models.BooleanField(default=False, help_text="The deadline rests on a projected date.")
    completed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    # A milestone that stops applying (type or visa change) is kept, with its evidence, but hidden.
    is_applicable = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["template__order"]
        constraints = [models.UniqueConstraint(fields=["applicant", "template"], name="one_milestone_per_template")]
        indexes = [
            models.Index(fields=["status", "due_at"], name="milestone_open_due_idx"),
            # The reminder sweep reads only open, applicable milestones by deadline; a partial index keeps
            # that range scan small however many done/waived milestones pile up (BENCHMARKS.md).
            models.Index(
                fields=["due_at"],
                condition=Q(is_applicable=True, status__in=["not_started", "in_progress"]),
                name="milestone_remindable_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.template.title} for {self.applicant}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NOT_STARTED, self.Status.IN_PROGRESS)


# --- Evidence ----------------------------------------------------------------------------------


class ExamAttempt(models.Model):
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="attempts")
    exam = models.CharField(max_length=8, choices=Exam.choices)
    test_date = models.DateField()
    result_date = models.DateField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True, help_text="Empty until the result is out.")
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(USMLE_SCORE_MIN), MaxValueValidator(USMLE_SCORE_MAX)]
    )
    # The attempt-limit rule in force on the application date applies (USMLE); empty = not known.
    applied_on = models.DateField(null=True, blank=True, help_text="When the exam application was submitted.")
    # Retaking a passed Step is allowed only for a state board's requirement: why, in the applicant's words.
    retake_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["test_date", "pk"]
        constraints = [
            # A Step is sat at most once a day: a second row for the day is a double submission.
            models.UniqueConstraint(fields=["milestone", "exam", "test_date"], name="one_attempt_per_step_and_day")
        ]

    def __str__(self):
        return f"{self.get_exam_display()} on {self.test_date}"


class OETResult(models.Model):
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="oet_results")
    test_date = models.DateField()
    listening = models.PositiveSmallIntegerField(validators=[MaxValueValidator(OET_SUBTEST_MAX)])
    reading = models.PositiveSmallIntegerField(validators=[MaxValueValidator(OET_SUBTEST_MAX)])
    speaking = models.PositiveSmallIntegerField(validators=[MaxValueValidator(OET_SUBTEST_MAX)])
    writing = models.PositiveSmallIntegerField(validators=[MaxValueValidator(OET_SUBTEST_MAX)])
    candidate_number = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["test_date", "pk"]

    def __str__(self):
        return f"OET Medicine on {self.test_date}"


class DocumentEvidence(models.Model):
    """Dates and numbers for certificates and registrations (ECFMG ID, NRMP ID, DS-2019...)."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="documents")
    label = models.CharField(max_length=120)
    reference = models.CharField(max_length=120, blank=True)
    date = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "pk"]

    def __str__(self):
        return f"{self.label} {self.reference}".strip()


class USCEEntry(models.Model):
    class Kind(models.TextChoices):
        ELECTIVE = "elective", "Clinical elective (student)"
        SUB_INTERNSHIP = "sub_i", "Sub-internship (student)"
        EXTERNSHIP = "externship", "Externship (graduate)"
        OBSERVERSHIP = "observership", "Observership"
        RESEARCH = "research", "Clinical research"

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="usce_entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    hands_on = models.BooleanField(default=False)
    specialty = models.CharField(max_length=80)
    site = models.CharField(max_length=160)
    supervisor = models.CharField(max_length=120, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="usce_ends_after_start")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.site}"


# --- Rule tables -------------------------------------------------------------------------------


class Sourced(models.Model):
    """Where a dated fact comes from: its source, whether that is confirmed, and when it was last checked.
    Tables whose rows are usually not confirmed yet override `status` with another default."""

    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.CONFIRMED)
    source_url = models.URLField(max_length=500)
    last_verified = models.DateField(null=True, blank=True, help_text="When the source was last checked.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True


class RuleRow(Sourced):
    """Common columns of every rule table: when it is in force and where it comes from."""

    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Inclusive; empty = still in force.")

    class Meta:
        abstract = True


class RuleQuerySet(models.QuerySet):
    def in_force_on(self, day):
        return self.filter(effective_from__lte=day).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))


class PassingStandard(RuleRow):
    exam = models.CharField(max_length=8, choices=Exam.choices)
    min_score = models.PositiveSmallIntegerField(null=True, blank=True)
    pass_fail_only = models.BooleanField(default=False)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["exam", "effective_from"]

    def __str__(self):
        value = "pass/fail" if self.pass_fail_only else self.min_score
        return f"{self.get_exam_display()} {value} from {self.effective_from}"


class AttemptLimit(RuleRow):
    exam = models.CharField(max_length=8, default="all", help_text="'all' or an exam code.")
    max_attempts = models.PositiveSmallIntegerField()
    max_in_12_months = models.PositiveSmallIntegerField(null=True, blank=True)
    min_months_after_first_for_last = models.PositiveSmallIntegerField(null=True, blank=True)
    min_months_after_previous_for_last = models.PositiveSmallIntegerField(null=True, blank=True)
    # The 12/6-month spacing binds this attempt and every later one (4: "fourth and subsequent", audit D23).
    spacing_from_attempt = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The spacing rule applies from this attempt on (e.g. 4)."
    )
    # USMLE: a passed Step may not be retaken, except to meet a state board's requirement (a waiver).
    retake_after_pass_allowed = models.BooleanField(default=False)
    retake_source_url = models.URLField(max_length=500, blank=True)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["effective_from"]

    def __str__(self):
        return f"{self.max_attempts} attempts from {self.effective_from}"


class OETThreshold(RuleRow):
    listening = models.PositiveSmallIntegerField()
    reading = models.PositiveSmallIntegerField()
    speaking = models.PositiveSmallIntegerField()
    writing = models.PositiveSmallIntegerField()
    one_sitting = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["effective_from"]

    def __str__(self):
        return f"OET L{self.listening} R{self.reading} S{self.speaking} W{self.writing} from {self.effective_from}"


class ScoreReleaseRule(RuleRow):
    exam = models.CharField(max_length=8, default="all")
    typical_days = models.PositiveSmallIntegerField(default=28)
    worst_case_days = models.PositiveSmallIntegerField(default=56)
    release_weekday = models.PositiveSmallIntegerField(default=2, help_text="Monday=0 … Wednesday=2.")
    blackout = models.JSONField(default=list, help_text="Weeks without releases, e.g. [\"07-04\", \"12-last\"].")
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["effective_from"]

    def __str__(self):
        return f"Results after {self.typical_days} days ({self.exam}) from {self.effective_from}"


class ErasFeeSchedule(models.Model):
    cycle_year = models.PositiveSmallIntegerField(unique=True)
    tiers = models.JSONField(help_text="[{\"from\": 1, \"to\": 30, \"fee_usd\": 11}, ...] per specialty.")
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.CONFIRMED)
    source_url = models.URLField(max_length=500)
    last_verified = models.DateField(null=True, blank=True, help_text="When the source was last checked.")
    history = HistoricalRecords()

    def __str__(self):
        return f"ERAS fees, {self.cycle_year} Match"


class SignalAllowance(models.Model):
    cycle_year = models.PositiveSmallIntegerField()
    specialty = models.CharField(max_length=80)
    gold = models.PositiveSmallIntegerField(null=True, blank=True)
    silver = models.PositiveSmallIntegerField(null=True, blank=True)
    total = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.CONFIRMED)
    source_url = models.URLField(max_length=500)
    last_verified = models.DateField(null=True, blank=True, help_text="When the source was last checked.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["cycle_year", "specialty"]
        constraints = [models.UniqueConstraint(fields=["cycle_year", "specialty"], name="one_allowance_per_specialty")]

    def __str__(self):
        return f"{self.specialty}: {self.total} signals ({self.cycle_year})"


class OETSeasonWindow(Sourced):
    """The earliest OET test date ECFMG accepts for one Pathways season (= Match year), audit D1."""

    cycle_year = models.PositiveSmallIntegerField(unique=True, help_text="Match year of the Pathways season.")
    tests_from = models.DateField(help_text="OET tests taken on or after this date count for the season.")
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)

    class Meta:
        ordering = ["cycle_year"]

    def __str__(self):
        return f"OET window, {self.cycle_year} Match: tests from {self.tests_from}"


class PathwaySeason(Sourced):
    """One ECFMG Pathways season's own rules (audit D2, §6.1): they move every year."""

    cycle_year = models.PositiveSmallIntegerField(unique=True, help_text="Match year the season supports.")
    pathways_3_5_graduated_from = models.DateField(
        null=True, blank=True, help_text="Pathways 3-5: graduation on or after this date (empty: not found)."
    )
    fee_usd = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)

    class Meta:
        ordering = ["cycle_year"]

    def __str__(self):
        return f"{self.cycle_year} Pathways season"


class ApplicationService(Sourced):
    """Which application service a specialty uses in a season (ERAS or ResidencyCAS), with its fees."""

    cycle_year = models.PositiveSmallIntegerField()
    service = models.CharField(max_length=20, help_text="ERAS or ResidencyCAS.")
    specialties = models.JSONField(default=list, blank=True, help_text="Specialties using it; empty = all others.")
    tiers = models.JSONField(default=list, blank=True, help_text="Fee tiers per specialty, as for ERAS.")
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.PROJECTED)

    class Meta:
        ordering = ["cycle_year", "service"]
        constraints = [
            models.UniqueConstraint(fields=["cycle_year", "service"], name="unique_service_per_cycle")
        ]

    def __str__(self):
        return f"{self.service}, {self.cycle_year} Match"


class TravelBanCountry(Sourced):
    """A nationality whose visa issuance a proclamation suspends, with the visa classes it covers."""

    class Level(models.TextChoices):
        FULL = "full", "Full suspension"
        PARTIAL = "partial", "Partial suspension"

    country = models.CharField(max_length=80)
    level = models.CharField(max_length=8, choices=Level.choices)
    visa_classes = models.JSONField(default=list, help_text='Visa classes suspended, e.g. ["B", "F", "M", "J"].')
    in_force_from = models.DateField()
    in_force_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.SECONDARY)

    class Meta:
        ordering = ["country", "in_force_from"]
        constraints = [
            models.UniqueConstraint(fields=["country", "in_force_from"], name="unique_ban_per_country_and_date")
        ]

    def __str__(self):
        return f"{self.country}: {self.get_level_display()} from {self.in_force_from}"


class VisaRule(Sourced):
    """A dated visa rule that guidance quotes (the H-1B payment, the interview-location rule...)."""

    key = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    visa_route = models.CharField(max_length=4, choices=VisaRoute.choices, blank=True)
    summary = models.CharField(max_length=500)
    amount_usd = models.PositiveIntegerField(null=True, blank=True)
    in_force_from = models.DateField()
    initial_term_to = models.DateField(null=True, blank=True, help_text="End of the initial term, if any.")
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.SECONDARY)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.title


# --- Reminders (deliveries) ----------------------------------------------------------------------


class Delivery(models.Model):
    """The columns of a row that is one email, sent once: its status, the attempts, when it was sent, the
    last error, and the Message-ID every attempt carries (recorded when the row is first claimed, before
    anything is sent, so that a repeat after a crash or a lost reply folds into the first copy in mail
    clients). Reminders, digests, advisors' comments and invitations, and the season's reminders carry it.

    Indexes and constraints stay on each table: their names are fixed per table."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


class ClaimedDelivery(Delivery):
    """A delivery sent through the shared claim/mark/release steps (milestones.reminders.delivery) and
    swept: when it was claimed (a row "sending" for too long lost its worker), and, after the send task's
    retries ran out, how often that happened and when the sweeper tries again (None: not again)."""

    claimed_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class ReminderQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status__in=[Reminder.Status.PLANNED, Reminder.Status.SENDING])


class Reminder(ClaimedDelivery):
    """One email reminder for one deadline instant of a milestone and one lead time; the unique constraint
    makes planning idempotent."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="reminders")
    # Set for applicants who chose the daily digest: the row is then delivered by that digest, not alone.
    digest = models.ForeignKey(
        "DigestDelivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="reminders"
    )
    # The deadline this reminder is about. When the milestone's deadline moves, the new instant gets rows
    # of its own (its lead times fire even where the old instant's were sent) and the old instant's unsent
    # rows are cancelled.
    due_at = models.DateTimeField()
    lead_days = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=12, default="email")
    scheduled_for = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_for"]
        constraints = [
            # Cancelled rows do not count: a reminder cancelled because the applicant unsubscribed (or
            # the milestone was closed) is planned again when they subscribe again (or reopen it).
            models.UniqueConstraint(
                fields=["milestone", "due_at", "lead_days", "channel"],
                condition=~Q(status="cancelled"),
                name="one_reminder_per_deadline_and_lead_time",
            )
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="reminder_status_idx")]

    def __str__(self):
        return f"{self.lead_days}-day reminder: {self.milestone}"

    def save(self, *args, **kwargs):
        if self.due_at is None:
            # A row made by hand (the admin, a test) is about the milestone's deadline as it is now.
            self.due_at = self.milestone.due_at or self.scheduled_for
        super().save(*args, **kwargs)


class DigestDelivery(ClaimedDelivery):
    """One daily digest email per applicant and local day; the unique constraint makes it exactly-once to plan."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_digests")
    local_date = models.DateField(help_text="The day in the applicant's time zone this digest belongs to.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-local_date"]
        constraints = [models.UniqueConstraint(fields=["user", "local_date"], name="one_digest_per_local_day")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="digest_status_idx")]

    def __str__(self):
        return f"Digest for {self.user} on {self.local_date}"


# --- Page versions ------------------------------------------------------------------------------


class PageVersion(models.Model):
    """A counter per scope, bumped in the same transaction as every change to what the pages show:
    "applicant:<id>" by each service that changes that applicant's pathway, "reference" by every edit of
    templates, cycles, events and rule tables. The pages' content cache is keyed by these numbers
    (milestones/versions.py), so a change is never served stale. A row of its own, not a column of the
    profile: a profile saved from an older copy must not write an old number back."""

    scope = models.CharField(max_length=40, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.scope} v{self.version}"


# --- Advisors' comments -------------------------------------------------------------------------


class MilestoneComment(ClaimedDelivery):
    """An advisor's comment on one of their student's milestones. The student sees it on that milestone
    and gets one email about it, delivered like a reminder (claim, send, mark; the sweeper for stuck and
    failed rows), so the row carries the same delivery columns."""

    BODY_MAX_LENGTH = 4000  # a comment, not a letter: what fits in one email without scrolling forever

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="comments")
    # Kept when the advisor's account goes: the student still reads who said it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="milestone_comments"
    )
    author_name = models.CharField(max_length=150)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "claimed_at"], name="comment_status_idx")]

    def __str__(self):
        return f"Comment by {self.author_name} on {self.milestone}"
