"""The advisor's weekly digest: the students with risk flags raised since the last digest, and the
deadlines of the coming week, in one email each week, with a one-click opt-out.

Never lost, never twice: one AdvisorDigest row per advisor and week (a unique constraint, so planning
twice plans once), sent with the reminders' claim -> check -> send -> mark steps
(milestones.reminders.delivery): a second task for the same row finds it claimed or sent and does
nothing; a row left "sending" by a dead worker is returned to "planned" by the next planning tick, and a
row whose retries ran out is tried again later. The one window left is the reminders' own: a crash
between the SMTP server accepting the message and the row being marked sent (the repeat then carries
the same Message-ID, so mail clients fold it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from milestones.models import Milestone
from milestones.reminders import smtp
from milestones.reminders.content import headers
from milestones.reminders.delivery import cancel, claim, mark_failed, mark_sent, release
from pathway.lib.emails import send_templated_email
from pathway.lib.times import ET, et_date
from pathway.lib.urls import absolute_url

from ..models import AdvisorDigest, AdvisorSettings, StudentRiskFlag, User
from .cohort import OPEN, flag_label

Status = AdvisorDigest.Status
KIND = "advisor-digest"  # the Message-ID's prefix
OPT_OUT_SALT = "pathway.advising.digest_opt_out"
OPT_OUT_MAX_AGE = timedelta(days=365)


# --- Opting out --------------------------------------------------------------------------------------


def opt_out_token(advisor) -> str:
    return signing.dumps({"a": advisor.pk}, salt=OPT_OUT_SALT)


def advisor_for_opt_out_token(token: str):
    """The advisor a signed opt-out token names, or None when it is forged, altered or too old."""
    try:
        data = signing.loads(token, salt=OPT_OUT_SALT, max_age=OPT_OUT_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return User.objects.filter(pk=data.get("a"), role=User.Role.ADVISOR).first()


@transaction.atomic
def opt_out_of_digest(*, advisor) -> None:
    """Stop the weekly digest and cancel the one not yet being sent. Safe to call twice."""
    AdvisorSettings.objects.update_or_create(advisor=advisor, defaults={"weekly_digest": False})
    AdvisorDigest.objects.filter(advisor=advisor, status=Status.PLANNED).update(
        status=Status.CANCELLED, last_error="advisor opted out"
    )


# --- Planning ----------------------------------------------------------------------------------------


def week_of(now: datetime) -> date:
    """The Monday (US Eastern, where Match deadlines are defined) of the week `now` falls in."""
    today = et_date(now)
    return today - timedelta(days=today.weekday())


def _recipients():
    """Active advisors who did not opt out and have at least one student sharing with them."""
    opted_out = AdvisorSettings.objects.filter(weekly_digest=False).values("advisor")
    return (
        User.objects.filter(role=User.Role.ADVISOR, is_active=True)
        .exclude(pk__in=opted_out)
        .filter(
            students__ended_at__isnull=True,
            students__accepted_at__isnull=False,
            students__applicant__is_active=True,
        )
        .distinct()
    )


def stuck_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "REMINDER_STUCK_AFTER_SECONDS", 600))


@transaction.atomic
def plan_weekly_digests(*, now: datetime | None = None) -> list[int]:
    """Plan this week's digest for every advisor who gets one (once: the unique constraint), return rows
    left "sending" by a dead worker and failed rows whose retry time has come to "planned", and return
    the ids of every planned row of this week, to enqueue. Enqueuing a row twice is harmless (the claim)."""
    now = now or timezone.now()
    week = week_of(now)
    AdvisorDigest.objects.bulk_create(
        [AdvisorDigest(advisor=advisor, week_of=week) for advisor in _recipients()], ignore_conflicts=True
    )
    current = AdvisorDigest.objects.filter(week_of=week)
    current.filter(status=Status.SENDING, claimed_at__lt=now - stuck_after()).update(status=Status.PLANNED)
    current.filter(status=Status.FAILED, retry_at__lte=now).update(status=Status.PLANNED)
    return list(current.filter(status=Status.PLANNED).values_list("pk", flat=True))


# --- What it says ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentNews:
    student: User
    flags: list[str]
    url: str


def digest_context(digest: AdvisorDigest, *, now: datetime) -> dict:
    advisor = digest.advisor
    students = User.objects.applicants_visible_to(advisor).values("pk")
    previous = (
        AdvisorDigest.objects.filter(advisor=advisor, status=Status.SENT, week_of__lt=digest.week_of)
        .order_by("-week_of")
        .values_list("sent_at", flat=True)
        .first()
    )
    since = previous or now - timedelta(days=7)
    news: dict[int, list[str]] = {}
    people: dict[int, User] = {}
    for flag in (
        StudentRiskFlag.objects.active()
        .filter(applicant__in=students, since__gt=since)
        .select_related("applicant")
        .order_by("applicant__name", "applicant__email", "code")
    ):
        news.setdefault(flag.applicant_id, []).append(flag_label(flag.code))
        people[flag.applicant_id] = flag.applicant
    deadlines = list(
        Milestone.objects.filter(
            applicant__in=students,
            is_applicable=True,
            status__in=OPEN,
            template__contingency=False,
            due_at__gte=now,
            due_at__lt=now + timedelta(days=7),
        )
        .select_related("template", "applicant")
        .order_by("due_at", "applicant__name")
    )
    return {
        "advisor": advisor,
        "week_of": digest.week_of,
        "students": [
            StudentNews(people[pk], codes, absolute_url("advisor:student_detail", pk))
            for pk, codes in news.items()
        ],
        "deadlines": [
            {
                "student": m.applicant.display_name,
                "title": m.template.title,
                "when": m.due_at.astimezone(ET),
                "projected": m.due_projected,
                "url": absolute_url("advisor:student_detail", m.applicant_id),
            }
            for m in deadlines
        ],
        "cohort_url": absolute_url("advisor:cohort"),
        "opt_out_url": absolute_url("advisor:digest_opt_out", opt_out_token(advisor)),
        "site_url": settings.SITE_URL,
    }


# --- Sending -----------------------------------------------------------------------------------------


def why_not(digest: AdvisorDigest) -> str:
    advisor = digest.advisor
    if not advisor.is_active or advisor.role != User.Role.ADVISOR:
        return "no longer an active advisor"
    if AdvisorSettings.objects.filter(advisor=advisor, weekly_digest=False).exists():
        return "advisor opted out"
    return ""


def deliver_advisor_digest(*, digest_id: int, mailer=None) -> str:
    """Claim, re-check, send and mark one weekly digest; returns what happened."""
    now = timezone.now()
    if not claim(AdvisorDigest, digest_id, now, kind=KIND):
        return "skipped"  # sent, cancelled, or another worker holds it
    digest = AdvisorDigest.objects.select_related("advisor").get(pk=digest_id)
    reason = why_not(digest)
    context = None if reason else digest_context(digest, now=now)
    if context is not None and not (context["students"] or context["deadlines"]):
        reason = "nothing to report this week"
    if reason:
        cancel(AdvisorDigest, digest_id, reason)
        return "cancelled"
    try:
        with smtp.connection(mailer) as connection:
            send_templated_email(
                "advisor_digest",
                to=[digest.advisor.email],
                context=context,
                headers=headers(digest.message_id, context["opt_out_url"]),
                mailer=connection,
            )
    except BaseException as exc:
        release(AdvisorDigest, digest_id, exc)
        raise
    mark_sent(AdvisorDigest, digest_id)
    return "sent"


def mark_advisor_digest_failed(*, digest_id: int, error: BaseException) -> None:
    """The send task's retries ran out: failed, and tried again later in the week (not after it)."""
    mark_failed(AdvisorDigest, digest_id, error, give_up_at=_week_end)


def _week_end(digest: AdvisorDigest) -> datetime:
    return datetime.combine(digest.week_of + timedelta(days=7), datetime.min.time(), tzinfo=ET)
