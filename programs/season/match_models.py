"""Models of the season's end (issue 13, part B): the rank order list, Match Week and SOAP.

The app label is `programs` (registered by ProgramsConfig like programs.season.models). The NRMP's limits
(ranks per list, SOAP applications) are part A's `SeasonLimit` rows and the extra-rank fee its `SeasonFee`
rows; the SOAP rounds are the cycle's events (soap_offer_rounds, soap_round_2...). The published medians of
contiguous ranks are data rows with their source and status (programs/data/match_rules.yaml). Only single figures are stored, each citing the NRMP report by URL: the
NRMP's tables are not bundled (their terms forbid reproduction).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from milestones.models import ApplicantType, Confidence, MatchCycle

from ..models import NOTE_MAX, SOURCE_URL_MAX, Program, Specialty
from .models import Application

# --- Rules as data ---------------------------------------------------------------------------------


class ContiguousRankMedian(models.Model):
    """The NRMP's published median number of contiguous ranks in the preferred specialty, for one applicant
    group (and one specialty, or all of them) in one report. Only the figure, its source and its status."""

    report_year = models.PositiveSmallIntegerField(help_text="The Match the report describes.")
    applicant_type = models.CharField(max_length=12, choices=ApplicantType.choices)
    specialty = models.ForeignKey(
        Specialty, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text="Empty: all specialties together.",
    )
    matched_median = models.DecimalField(max_digits=5, decimal_places=1)
    unmatched_median = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    report_title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Confidence.choices, default=Confidence.SECONDARY)
    source_url = models.URLField(max_length=SOURCE_URL_MAX)
    last_verified = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-report_year", "applicant_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["report_year", "applicant_type", "specialty"], name="one_median_per_specialty"
            ),
            models.UniqueConstraint(
                fields=["report_year", "applicant_type"], condition=Q(specialty__isnull=True),
                name="one_all_specialties_median",
            ),
        ]

    def __str__(self):
        return f"Median contiguous ranks, {self.get_applicant_type_display()} ({self.report_year})"


# --- Rank order list -------------------------------------------------------------------------------


class RankOrderList(models.Model):
    """An applicant's rank order list for one Match: the primary list and any supplemental lists, certified
    together. `version` grows with every change; a change sent with an older version is refused (two tabs,
    a double submit), and certifying records the version certified, so any later edit un-certifies."""

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rank_lists")
    cycle = models.ForeignKey(MatchCycle, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=0)
    certified_at = models.DateTimeField(null=True, blank=True)
    certified_version = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["cycle__year"]
        constraints = [models.UniqueConstraint(fields=["applicant", "cycle"], name="one_rank_order_list_per_cycle")]

    def __str__(self):
        return f"Rank order list of {self.applicant} ({self.cycle.year})"

    @property
    def is_certified(self) -> bool:
        return self.certified_at is not None and self.certified_version == self.version


class RankList(models.Model):
    """The primary list, or one supplemental list of PGY-1 programs linked to advanced programs."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", "Primary list"
        SUPPLEMENTAL = "supplemental", "Supplemental list"

    rol = models.ForeignKey(RankOrderList, on_delete=models.CASCADE, related_name="lists")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PRIMARY)
    name = models.CharField(max_length=80, blank=True)
    # The advanced programs (on the primary list) this supplemental list is tried for.
    advanced = models.ManyToManyField(Application, blank=True, related_name="supplemental_lists")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rol"], condition=Q(kind="primary"), name="one_primary_list"),
            models.UniqueConstraint(fields=["rol", "name"], name="unique_list_name"),
        ]

    def __str__(self):
        return self.name or self.get_kind_display()

    @property
    def is_primary(self) -> bool:
        return self.kind == self.Kind.PRIMARY


class Rank(models.Model):
    """One program at one rank of one list. The unique constraints make a lost update impossible to store:
    two rows can never hold the same rank, nor the same program twice."""

    rank_list = models.ForeignKey(RankList, on_delete=models.CASCADE, related_name="ranks")
    rank = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="ranks")

    class Meta:
        ordering = ["rank_list", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["rank_list", "rank"], name="one_program_per_rank"),
            models.UniqueConstraint(fields=["rank_list", "application"], name="one_rank_per_program"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="rank_from_one"),
        ]

    def __str__(self):
        return f"#{self.rank} {self.application.program}"


# --- Match Week and SOAP ----------------------------------------------------------------------------


class MatchOutcome(models.Model):
    """What the applicant learnt on the Monday of Match Week, and where they matched in the end."""

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        PARTIALLY_MATCHED = "partially_matched", "Partially matched (advanced position only)"
        UNMATCHED = "unmatched", "Not matched"

    class Via(models.TextChoices):
        MATCH = "match", "Main Residency Match"
        SOAP = "soap", "SOAP"

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="match_outcomes")
    cycle = models.ForeignKey(MatchCycle, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices)
    soap_eligible = models.BooleanField(default=True, help_text="As the NRMP shows it in R3.")
    recorded_at = models.DateTimeField(default=timezone.now)
    matched_program = models.ForeignKey(Program, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    matched_via = models.CharField(max_length=6, choices=Via.choices, blank=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["cycle__year"]
        constraints = [models.UniqueConstraint(fields=["applicant", "cycle"], name="one_match_outcome_per_cycle")]

    def __str__(self):
        return f"{self.get_status_display()} ({self.cycle.year}) for {self.applicant}"

    @property
    def in_soap(self) -> bool:
        return self.status != self.Status.MATCHED and self.soap_eligible and self.matched_program_id is None


class SoapApplication(models.Model):
    """One of the applicant's SOAP applications (at most the season's limit, enforced by the service under
    a row lock on the outcome)."""

    outcome = models.ForeignKey(MatchOutcome, on_delete=models.CASCADE, related_name="soap_applications")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["applied_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["outcome", "program"], name="one_soap_application_per_program")]

    def __str__(self):
        return f"SOAP application to {self.program}"


class SoapOffer(models.Model):
    """An offer a program made in one SOAP round; accepting one is binding and ends SOAP for the applicant."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for your answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        LAPSED = "lapsed", "Lapsed (not answered in time, or another offer accepted)"

    outcome = models.ForeignKey(MatchOutcome, on_delete=models.CASCADE, related_name="soap_offers")
    application = models.ForeignKey(SoapApplication, on_delete=models.CASCADE, related_name="offers")
    round = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    received_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "received_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "round"], name="one_offer_per_program_and_round"),
            # Binding: at most one accepted offer per applicant and Match, whatever races.
            models.UniqueConstraint(fields=["outcome"], condition=Q(status="accepted"), name="one_accepted_offer"),
        ]

    def __str__(self):
        return f"Round {self.round} offer from {self.application.program}"
