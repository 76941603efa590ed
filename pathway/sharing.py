"""Sharing a pathway with advisors: invitations by email, an admin's assignments the applicant accepts,
what each advisor may see, ending access, and an admin's bulk assignment from CSV.

Every change is a small transactional service with keyword-only arguments; the views, the admin and
the tests go through them. Refusals raise `SharingError` with a message for the person, and change
nothing. The invitation's one email goes out like a reminder (claim, send, mark; retries, then the
sweeper), enqueued by `pathway.tasks` after commit.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from milestones.reminders import smtp
from milestones.reminders.delivery import cancel, claim, mark_failed, mark_sent, release
from milestones.reminders.sweeping import stuck_after
from milestones.versions import viewer_changed
from pathway.lib.emails import send_templated_email
from pathway.lib.urls import absolute_url

from .models import AdvisorAssignment, AdvisorInvitation, User

SHARING_CHOICES = ("shares_scores", "shares_visa", "shares_notes")


class SharingError(ValueError):
    """A refused sharing change; the message is for the person who asked."""


def _choices(shares: dict | None) -> dict:
    shares = shares or {}
    unknown = set(shares) - set(SHARING_CHOICES)
    if unknown:
        raise SharingError(f"Unknown sharing choices: {', '.join(sorted(unknown))}.")
    return {name: bool(value) for name, value in shares.items()}


@transaction.atomic
def invite_advisor(*, applicant: User, email: str, shares: dict | None = None) -> AdvisorInvitation:
    """Invite the advisor with this address to see `applicant`'s pathway; the advisor accepts it on
    their advisor pages. Inviting an address again updates the open invitation's choices."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise SharingError("Enter a valid email address.") from None
    if email == applicant.email.lower():
        raise SharingError("That is your own address: invite your advisor's.")
    if AdvisorAssignment.objects.active().filter(applicant=applicant, advisor__email__iexact=email).exists():
        raise SharingError(f"{email} can already see your pathway.")
    choices = _choices(shares)
    invitation, _ = AdvisorInvitation.objects.open().update_or_create(
        applicant=applicant, email=email, defaults=choices
    )
    return invitation


@transaction.atomic
def withdraw_invitation(*, invitation: AdvisorInvitation) -> None:
    AdvisorInvitation.objects.open().filter(pk=invitation.pk).update(withdrawn_at=timezone.now())


@transaction.atomic
def accept_invitation(*, advisor: User, invitation: AdvisorInvitation) -> AdvisorAssignment:
    """The advisor accepts: the sharing starts at once, with the choices the applicant made."""
    locked = AdvisorInvitation.objects.select_for_update().open().filter(pk=invitation.pk).first()
    if locked is None or not advisor.is_advisor or locked.email.lower() != advisor.email.lower():
        raise SharingError("This invitation is no longer open.")
    now = timezone.now()
    assignment = (
        AdvisorAssignment.objects.select_for_update().current().filter(advisor=advisor, applicant=locked.applicant)
    ).first()
    choices = {name: getattr(locked, name) for name in SHARING_CHOICES}
    if assignment is None:
        assignment = AdvisorAssignment.objects.create(
            advisor=advisor,
            applicant=locked.applicant,
            origin=AdvisorAssignment.Origin.INVITATION,
            accepted_at=now,
            **choices,
        )
    else:  # an admin's assignment was waiting: the applicant's invitation is their consent
        for name, value in {**choices, "accepted_at": assignment.accepted_at or now}.items():
            setattr(assignment, name, value)
        assignment.save()
    locked.accepted_at, locked.assignment = now, assignment
    locked.save(update_fields=["accepted_at", "assignment"])
    viewer_changed(advisor.pk)
    return assignment


@transaction.atomic
def accept_assignment(*, assignment: AdvisorAssignment, shares: dict | None = None) -> AdvisorAssignment:
    """The applicant accepts an admin's assignment, with their sharing choices."""
    choices = _choices(shares)
    updated = AdvisorAssignment.objects.pending().filter(pk=assignment.pk).update(
        accepted_at=timezone.now(), **choices
    )
    if not updated:
        raise SharingError("This request is no longer waiting for you.")
    viewer_changed(assignment.advisor_id)  # a queryset update sends no signal: the advisor's cohort changed
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def update_sharing(*, assignment: AdvisorAssignment, shares: dict) -> AdvisorAssignment:
    """Change what one advisor sees; takes effect on their next request."""
    choices = _choices(shares)
    if not AdvisorAssignment.objects.current().filter(pk=assignment.pk).update(**choices):
        raise SharingError("This advisor no longer has access.")
    viewer_changed(assignment.advisor_id)
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def end_assignment(*, assignment: AdvisorAssignment) -> bool:
    """End the access (or decline a waiting assignment) at once; True when it was still current."""
    ended = bool(AdvisorAssignment.objects.current().filter(pk=assignment.pk).update(ended_at=timezone.now()))
    if ended:
        viewer_changed(assignment.advisor_id)
    return ended


# --- Bulk assignment from CSV (admin) ------------------------------------------------------------


@dataclass
class BulkResult:
    """What a bulk assignment did or would do: the pairs to assign, those already current, and the
    errors by line number. Nothing is written when there is any error (all or nothing)."""

    to_assign: list[tuple[User, User]] = field(default_factory=list)
    already: list[tuple[User, User]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    created: int = 0


BULK_MAX_ROWS = 5000  # one school's class many times over; bigger files are split


def _read_rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the non-blank lines, without a header line."""
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if any(cell.strip() for cell in row)
    ]
    if rows and rows[0][1][0].strip().lower().replace("_", " ") in {"advisor", "advisor email"}:
        rows = rows[1:]
    return rows


def _check_row(row: list[str], users: dict[str, User]) -> tuple[User, User] | str:
    if len(row) != 2:
        return "expected two columns: advisor email, student email"
    advisor_email, student_email = (cell.strip().lower() for cell in row)
    advisor, student = users.get(advisor_email), users.get(student_email)
    if advisor is None or not advisor.is_active:
        return f"no active account for the advisor {advisor_email!r}"
    if not advisor.is_advisor:
        return f"{advisor_email} is not an advisor"
    if student is None or not student.is_active:
        return f"no active account for the student {student_email!r}"
    if not student.is_applicant:
        return f"{student_email} is not an applicant"
    return advisor, student


def plan_bulk_assignment(*, text: str) -> BulkResult:
    """Read "advisor email, student email" lines (a header line is allowed) and say what would be
    assigned, or why each bad line is refused. Writes nothing."""
    result = BulkResult()
    rows = _read_rows(text)
    if not rows:
        result.errors.append((0, "the file has no lines"))
        return result
    if len(rows) > BULK_MAX_ROWS:
        result.errors.append((0, f"at most {BULK_MAX_ROWS} lines per file"))
        return result
    emails = {cell.strip().lower() for _, row in rows for cell in row[:2]}
    users = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
    current = set(
        AdvisorAssignment.objects.current()
        .filter(applicant__email__in=emails, advisor__email__in=emails)
        .values_list("advisor_id", "applicant_id")
    )
    seen = set()
    for number, row in rows:
        checked = _check_row(row, users)
        if isinstance(checked, str):
            result.errors.append((number, checked))
        elif (checked[0].pk, checked[1].pk) in seen:
            result.errors.append((number, "the same pair appears on an earlier line"))
        else:
            seen.add((checked[0].pk, checked[1].pk))
            pair_ids = (checked[0].pk, checked[1].pk)
            (result.already if pair_ids in current else result.to_assign).append(checked)
    return result


def bulk_assign(*, text: str, dry_run: bool = True) -> BulkResult:
    """Plan, and unless `dry_run` or any line is refused, create the assignments in one transaction.
    Each waits for its student to accept it (pending): an admin cannot open a pathway by themselves."""
    result = plan_bulk_assignment(text=text)
    if dry_run or result.errors or not result.to_assign:
        return result
    try:
        with transaction.atomic():
            AdvisorAssignment.objects.bulk_create(
                AdvisorAssignment(advisor=advisor, applicant=student, origin=AdvisorAssignment.Origin.ADMIN)
                for advisor, student in result.to_assign
            )
    except IntegrityError:  # someone assigned one of the pairs in the meantime: nothing was written
        result.errors.append((0, "the assignments changed meanwhile; nothing was saved, try again"))
        return result
    result.created = len(result.to_assign)
    return result


# --- The invitation email ---------------------------------------------------------------------------

INVITATION_KIND = "invitation"  # the Message-ID's prefix
Status = AdvisorInvitation.Status
# An invitation email is news for a while: after this the sweeper stops retrying a failed one (the
# advisor still finds the invitation on their Invitations page).
INVITATION_EMAIL_WINDOW = timedelta(days=7)


def deliver_invitation(*, invitation_id: int, mailer=None) -> str:
    """Claim, re-check, send and mark the email to an invited advisor; returns what happened."""
    now = timezone.now()
    if not claim(AdvisorInvitation, invitation_id, now, kind=INVITATION_KIND):
        return "skipped"  # sent, cancelled, or another worker holds it
    invitation = AdvisorInvitation.objects.select_related("applicant").get(pk=invitation_id)
    if invitation.accepted_at or invitation.withdrawn_at or not invitation.applicant.is_active:
        cancel(AdvisorInvitation, invitation_id, "invitation no longer open")
        return "cancelled"
    try:
        with smtp.connection(mailer) as connection:
            send_templated_email(
                "advisor_invitation",
                to=[invitation.email],
                context={
                    "applicant": invitation.applicant,
                    "invitation": invitation,
                    "url": absolute_url("advisor:invitations"),
                    "site_url": settings.SITE_URL,
                },
                headers={"Message-ID": invitation.message_id, "Auto-Submitted": "auto-generated"},
                mailer=connection,
            )
    except BaseException as exc:
        release(AdvisorInvitation, invitation_id, exc)
        raise
    mark_sent(AdvisorInvitation, invitation_id)
    return "sent"


def mark_invitation_failed(*, invitation_id: int, error: BaseException) -> None:
    """The send task's retries ran out: failed, with the sweeper's next try while the invitation is new."""
    mark_failed(
        AdvisorInvitation, invitation_id, error, give_up_at=lambda row: row.created_at + INVITATION_EMAIL_WINDOW
    )


@transaction.atomic
def requeue_invitation_emails(*, now: datetime | None = None) -> list[int]:
    """The sweeper for invitation emails: stuck ones ("sending" past the stuck delay: the worker died)
    and failed ones whose retry time has come go back to "planned"; returns every planned one nobody is
    working on, for the caller to enqueue after commit (a second message is harmless: the claim)."""
    now = now or timezone.now()
    cutoff = now - stuck_after()
    stuck = list(
        AdvisorInvitation.objects.select_for_update(skip_locked=True)
        .filter(status=Status.SENDING, claimed_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    due = list(
        AdvisorInvitation.objects.select_for_update(skip_locked=True)
        .filter(status=Status.FAILED, retry_at__lte=now)
        .values_list("pk", flat=True)
    )
    AdvisorInvitation.objects.filter(pk__in=stuck + due).update(status=Status.PLANNED, retry_at=None)
    idle = Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff) | Q(pk__in=stuck + due)
    return list(AdvisorInvitation.objects.filter(idle, status=Status.PLANNED).values_list("pk", flat=True))
