"""Season reminders: an interview reminded like a deadline (the applicant's lead times, or the interviews
milestone's, at the reminders' hour on their own clock), and a nudge for a letter not uploaded by its day.

Built from the deadline reminders' parts (milestones.reminders: the send instant, lead times, the on/off
switch, the unsubscribe link, one Message-ID per row; pathway.lib.emails for the email). Planning inserts
rows idempotently (unique per occasion and lead time) and cancels those whose occasion moved or ended;
delivery claims a row under a lock, checks it still holds, sends, and marks it sent, so a row is sent once.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from milestones.models import ApplicantProfile, MilestoneTemplate
from milestones.reminders import REMINDER_HOUR, lead_days_for, reminder_send_at, unsubscribe_url
from milestones.reminders.content import headers, message_id_for
from pathway.lib.emails import send_templated_email
from pathway.lib.urls import absolute_url

from .models import Interview, Letter, SeasonReminder, Status

INTERVIEWS_TEMPLATE = "interviews"
UPLOADED = (Letter.Status.UPLOADED, Letter.Status.ASSIGNED)


def _profiles():
    return ApplicantProfile.objects.filter(email_reminders=True, user__is_active=True)


def nudge_instant(letter: Letter, tz: zoneinfo.ZoneInfo) -> datetime:
    """The nudge day at the reminders' hour on the applicant's clock."""
    return datetime.combine(letter.nudge_on, REMINDER_HOUR, tzinfo=tz)


@transaction.atomic
def plan_season_reminders(*, now: datetime | None = None) -> list[int]:
    """Cancel the rows whose occasion moved or ended, insert the rows whose send instant has come;
    returns the new rows' ids (the caller enqueues them after commit)."""
    now = now or timezone.now()
    cancel_stale()
    template = MilestoneTemplate.objects.filter(key=INTERVIEWS_TEMPLATE).first()
    new = []
    for profile in _profiles().filter(user__applications__interview__starts_at__gt=now).distinct():
        new += _plan_interviews(profile, template, now)
    for profile in _profiles().filter(user__letters__nudge_on__isnull=False).distinct():
        new += _plan_nudges(profile, now)
    return new


def _plan_interviews(profile, template, now) -> list[int]:
    leads = lead_days_for(profile, template) if template else [1]
    horizon = now + timedelta(days=max(leads, default=0) + 2)
    interviews = Interview.objects.filter(
        application__applicant_id=profile.user_id, starts_at__gt=now, starts_at__lte=horizon
    ).exclude(application__status=Status.WITHDRAWN)
    rows = []
    for interview in interviews:
        due = [(lead, reminder_send_at(interview.starts_at, lead, profile.tz)) for lead in leads]
        due = [(lead, at) for lead, at in due if at <= now]
        if due:  # only the freshest due lead time, as for deadlines
            lead, at = min(due)
            rows.append(_insert(applicant_id=profile.user_id, kind=SeasonReminder.Kind.INTERVIEW,
                                interview=interview, due_at=interview.starts_at, lead_days=lead, at=at))
    return [pk for pk in rows if pk]


def _plan_nudges(profile, now) -> list[int]:
    today = now.astimezone(profile.tz).date()
    letters = Letter.objects.filter(applicant_id=profile.user_id, nudge_on__lte=today,
                                    nudge_on__gte=today - timedelta(days=7)).exclude(status__in=UPLOADED)
    rows = []
    for letter in letters:
        at = nudge_instant(letter, profile.tz)
        if at <= now:
            rows.append(_insert(applicant_id=profile.user_id, kind=SeasonReminder.Kind.LETTER_NUDGE, letter=letter,
                                due_at=at, lead_days=0, at=at))
    return [pk for pk in rows if pk]


def _insert(*, at, **fields) -> int | None:
    occasion = {"interview": fields.get("interview"), "letter": fields.get("letter")}
    exists = SeasonReminder.objects.filter(
        due_at=fields["due_at"], lead_days=fields["lead_days"], **occasion
    ).exclude(status=SeasonReminder.Status.CANCELLED)
    if exists.exists():
        return None
    try:
        with transaction.atomic():
            return SeasonReminder.objects.create(scheduled_for=at, **fields).pk
    except IntegrityError:  # a concurrent sweep inserted it first
        return None


def cancel_stale() -> int:
    """Unsent rows whose interview moved (or was withdrawn) or whose letter arrived: cancelled."""
    moved = (
        Q(kind=SeasonReminder.Kind.INTERVIEW)
        & (~Q(due_at=F("interview__starts_at")) | Q(interview__starts_at__isnull=True)
           | Q(interview__application__status=Status.WITHDRAWN))
    )
    arrived = Q(kind=SeasonReminder.Kind.LETTER_NUDGE) & Q(letter__status__in=UPLOADED)
    return SeasonReminder.objects.filter(moved | arrived, status=SeasonReminder.Status.PLANNED).update(
        status=SeasonReminder.Status.CANCELLED, last_error="occasion moved or ended"
    )


def deliver_season_reminder(*, reminder_id: int, now: datetime | None = None) -> str:
    """Send one row once: claimed under a row lock (a second worker skips it), checked, sent, marked."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = (
            SeasonReminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("applicant__profile", "interview__application__program", "letter")
            .filter(pk=reminder_id, status=SeasonReminder.Status.PLANNED).first()
        )
        if reminder is None:
            return "skipped"
        reason = why_not(reminder, now)
        if reason:
            reminder.status, reminder.last_error = SeasonReminder.Status.CANCELLED, reason
            reminder.save(update_fields=["status", "last_error"])
            return "cancelled"
        reminder.attempts += 1
        reminder.message_id = reminder.message_id or message_id_for("season-reminder", reminder.pk)
        _send(reminder)
        reminder.status, reminder.sent_at = SeasonReminder.Status.SENT, now
        reminder.save(update_fields=["status", "sent_at", "attempts", "message_id"])
    return "sent"


def why_not(reminder: SeasonReminder, now: datetime) -> str:
    profile = getattr(reminder.applicant, "profile", None)
    if profile is None or not profile.email_reminders or not reminder.applicant.is_active:
        return "reminders off"
    if reminder.kind == SeasonReminder.Kind.INTERVIEW:
        interview = reminder.interview
        if interview.starts_at != reminder.due_at or interview.application.status == Status.WITHDRAWN:
            return "interview moved or withdrawn"
        if interview.starts_at <= now:
            return "interview already started"
    elif reminder.letter.status in UPLOADED:
        return "letter uploaded"
    return ""


def _send(reminder: SeasonReminder) -> None:
    user = reminder.applicant
    context = {"user": user, "reminder": reminder, "unsubscribe_url": unsubscribe_url(user)}
    if reminder.kind == SeasonReminder.Kind.INTERVIEW:
        interview = reminder.interview
        context |= {
            "program": interview.application.program,
            "interview": interview,
            "url": absolute_url("applicant:season_application", interview.application_id),
        }
    else:
        context |= {"letter": reminder.letter, "url": absolute_url("applicant:season_letter", reminder.letter_id)}
    send_templated_email(
        "season_reminder", to=[user.email], context=context,
        headers=headers(reminder.message_id, context["unsubscribe_url"]),
    )
