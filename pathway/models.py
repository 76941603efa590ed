"""People: the custom user (log in by email, one role), advisor assignments and invitations."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from milestones.models import ClaimedDelivery, Delivery


class UserQuerySet(models.QuerySet):
    def applicants(self):
        return self.filter(role=User.Role.APPLICANT, is_active=True)

    def applicants_visible_to(self, user):
        """Applicants whose data `user` may read: themselves, their assigned students, or all for admins."""
        if not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.applicants()
        if user.is_advisor:
            # Only a sharing the applicant agreed to (invited the advisor, or accepted an admin's
            # assignment) and has not ended: a pending admin assignment shows nothing yet.
            return self.applicants().filter(
                advisor_assignments__advisor=user,
                advisor_assignments__ended_at__isnull=True,
                advisor_assignments__accepted_at__isnull=False,
            )
        return self.applicants().filter(pk=user.pk)

    def advisors_of(self, applicant):
        """The advisors who can read `applicant`'s pathway (see applicants_visible_to), each with
        `advising_since`: the start of their active assignment. Admins, who can read every pathway, are
        not listed."""
        return self.filter(
            role=User.Role.ADVISOR,
            is_active=True,
            students__applicant=applicant,
            students__ended_at__isnull=True,
            students__accepted_at__isnull=False,
        ).annotate(advising_since=models.F("students__accepted_at"))


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("role", User.Role.APPLICANT)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(role=User.Role.ADMIN, is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        APPLICANT = "applicant", "Applicant"
        ADVISOR = "advisor", "Advisor"
        ADMIN = "admin", "Admin"

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.APPLICANT)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # The role alone decides who may use the Django admin (every applicant's evidence and
            # calendar address): admins are staff, nobody else is staff or superuser. Checked by the
            # database too, because bulk updates skip save().
            models.CheckConstraint(
                condition=Q(role="admin", is_staff=True)
                | (~Q(role="admin") & Q(is_staff=False, is_superuser=False)),
                name="staff_rights_follow_the_role",
                violation_error_message="Only admins have staff rights, and every admin has them.",
            )
        ]

    def __str__(self):
        return self.name or self.email

    def _staff_rights_from_role(self) -> None:
        # Admins edit templates in the Django admin, so the role and the staff flags go together, both
        # ways: a demoted admin loses the admin at once.
        if self.role == self.Role.ADMIN:
            self.is_staff = True
        else:
            self.is_staff = self.is_superuser = False

    def clean(self):
        # Before the model form checks the constraint: changing the role in the admin is enough.
        super().clean()
        self._staff_rights_from_role()

    def save(self, *args, **kwargs):
        self._staff_rights_from_role()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        super().save(*args, **kwargs)

    @property
    def is_applicant(self) -> bool:
        return self.role == self.Role.APPLICANT

    @property
    def is_advisor(self) -> bool:
        return self.role == self.Role.ADVISOR

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def requires_mfa(self) -> bool:
        """Advisors and admins read other people's records: a password alone is not enough for them."""
        return self.role in (self.Role.ADVISOR, self.Role.ADMIN)

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]


class AdvisorAssignmentQuerySet(models.QuerySet):
    def active(self):
        """Sharings in force: agreed to by the applicant and not ended."""
        return self.filter(ended_at__isnull=True, accepted_at__isnull=False)

    def pending(self):
        """Assignments an admin made that the applicant has not accepted (or declined) yet."""
        return self.filter(ended_at__isnull=True, accepted_at__isnull=True)

    def current(self):
        """Active or pending: the rows the one-per-pair constraint covers."""
        return self.filter(ended_at__isnull=True)


class AdvisorAssignment(models.Model):
    """An advisor may read the pathway of the applicants who share it with them, nothing else, and only
    the parts each applicant chose to share.

    A row counts once the applicant agreed to it (`accepted_at`): at once when the applicant invited the
    advisor (the advisor accepting the invitation creates it), after the applicant accepts when an admin
    made it. Ending it (`ended_at`, by the applicant, the advisor or an admin) takes the access away on
    the next request; rows are kept, ended, as the record of who could see what and when.
    """

    class Origin(models.TextChoices):
        INVITATION = "invitation", "The applicant invited the advisor"
        ADMIN = "admin", "An administrator assigned the advisor"

    advisor = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="students", limit_choices_to={"role": User.Role.ADVISOR}
    )
    applicant = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="advisor_assignments",
        limit_choices_to={"role": User.Role.APPLICANT},
    )
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.ADMIN)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the applicant agreed to share; empty while an assignment waits.",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # What the applicant shares with this advisor, besides the milestones, deadlines and risks. Scores and
    # visa details are shared unless the applicant says otherwise; private notes only if they say so.
    shares_scores = models.BooleanField("share exam scores", default=True)
    shares_visa = models.BooleanField("share visa details", default=True)
    shares_notes = models.BooleanField("share private notes", default=False)

    objects = AdvisorAssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advisor", "applicant"],
                condition=Q(ended_at__isnull=True),
                name="one_active_assignment_per_pair",
            )
        ]

    def __str__(self):
        return f"{self.advisor} advises {self.applicant}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None and self.accepted_at is not None


class AdvisorInvitationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(accepted_at__isnull=True, withdrawn_at__isnull=True)


class AdvisorInvitation(ClaimedDelivery):
    """An applicant's invitation to an advisor, by email: the advisor with that address accepts it (which
    creates the assignment, with the sharing choices made here) or the applicant withdraws it."""

    applicant = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="advisor_invitations",
        limit_choices_to={"role": User.Role.APPLICANT},
    )
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    assignment = models.OneToOneField(
        AdvisorAssignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitation"
    )
    shares_scores = models.BooleanField("share exam scores", default=True)
    shares_visa = models.BooleanField("share visa details", default=True)
    shares_notes = models.BooleanField("share private notes", default=False)
    # The one email to the invited address, delivered like a reminder (claim, send, mark; the sweeper
    # for stuck and failed ones): the delivery's columns, its status named apart from the invitation's.
    status = models.CharField(
        "email status",
        max_length=12,
        default=Delivery.Status.PLANNED,
        choices=Delivery.Status.choices,
        help_text="Of the invitation email (the invitation itself is open, accepted or withdrawn).",
    )

    objects = AdvisorInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per applicant and address: inviting twice is the same invitation.
            models.UniqueConstraint(
                fields=["applicant", "email"],
                condition=Q(accepted_at__isnull=True, withdrawn_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="invitation_email_status_idx")]

    def __str__(self):
        return f"{self.applicant} invites {self.email}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A personal access token for the JSON API (`Authorization: Bearer <token>`).

    Only a SHA-256 digest is stored: the token itself is shown once, when it is created.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise the token in a list.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


# --- The advisor's workspace (issue 14, part B): risk flags, interview targets, the weekly digest ---------


class StudentRiskFlagQuerySet(models.QuerySet):
    def active(self):
        return self.filter(cleared_at__isnull=True)


class StudentRiskFlag(models.Model):
    """One episode of a cohort risk flag (milestones.risks.COHORT_FLAGS) on a student's pathway: from when
    the risk service first saw it to when it went away. Stored so the cohort can filter and sort 2,000
    students by risk in SQL, and the weekly digest can tell which risks are new."""

    applicant = models.ForeignKey(User, on_delete=models.CASCADE, related_name="risk_flags")
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=8)
    milestone = models.CharField(max_length=60, blank=True, help_text="Key of the milestone it is about.")
    since = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = StudentRiskFlagQuerySet.as_manager()

    class Meta:
        ordering = ["since"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "code"], condition=Q(cleared_at__isnull=True), name="one_active_flag_per_code"
            )
        ]
        indexes = [
            models.Index(fields=["code"], condition=Q(cleared_at__isnull=True), name="risk_flag_active_code_idx")
        ]

    def __str__(self):
        return f"{self.code} for {self.applicant}"


class InterviewTarget(models.Model):
    """How many interviews an advisor wants a student of one specialty to have by a date."""

    advisor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="interview_targets")
    specialty = models.CharField(max_length=80)
    interviews = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    by_date = models.DateField()

    class Meta:
        ordering = ["specialty"]
        constraints = [
            models.UniqueConstraint(fields=["advisor", "specialty"], name="one_interview_target_per_specialty")
        ]

    def __str__(self):
        return f"{self.specialty}: {self.interviews} interviews by {self.by_date}"


class AdvisorSettings(models.Model):
    """An advisor's choices; no row means the defaults (the weekly digest on)."""

    advisor = models.OneToOneField(User, on_delete=models.CASCADE, related_name="advisor_settings")
    weekly_digest = models.BooleanField(default=True)

    def __str__(self):
        return f"Settings of {self.advisor}"


class AdvisorDigest(ClaimedDelivery):
    """One weekly digest email per advisor and week; the unique constraint makes planning it exactly-once
    and the reminders' claim (milestones.reminders.delivery.claim) makes sending it at most once per try."""

    advisor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="weekly_digests")
    week_of = models.DateField(help_text="The Monday (US Eastern) of the week the digest is for.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_of"]
        constraints = [models.UniqueConstraint(fields=["advisor", "week_of"], name="one_digest_per_advisor_week")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="advisor_digest_status_idx")]

    def __str__(self):
        return f"Weekly digest for {self.advisor}, week of {self.week_of}"
