"""People: the custom user (log in by email, one role) and advisor assignments."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


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
            return self.applicants().filter(
                advisor_assignments__advisor=user, advisor_assignments__ended_at__isnull=True
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
        ).annotate(advising_since=models.F("students__created_at"))


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


class AdvisorAssignment(models.Model):
    """An advisor may read the dashboard of the applicants assigned to them, nothing else."""

    advisor = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="students", limit_choices_to={"role": User.Role.ADVISOR}
    )
    applicant = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="advisor_assignments",
        limit_choices_to={"role": User.Role.APPLICANT},
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

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
