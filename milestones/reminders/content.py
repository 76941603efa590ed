"""What a reminder or digest email says: the deadline on two clocks, the first steps, the links, and
the headers that make resends foldable and unsubscribing one click."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime

from django.conf import settings

from pathway.lib.times import ET, days_between
from pathway.lib.urls import absolute_url

from ..audience import for_audience
from ..models import Milestone, MilestoneTemplate, Reminder
from .schedule import applicant_tz
from .unsubscribe import unsubscribe_token


def _clock(at: datetime) -> str:
    return f"{at:%I}".lstrip("0") + f":{at:%M %p}"


def format_deadline(due_at: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'Tue 3 Mar 2027, 9:00 PM EST (4:00 AM PKT on 4 Mar)': the clock deadlines are defined on
    (US Eastern), then the applicant's own, with the date when it differs."""
    official = due_at.astimezone(ET)
    text = f"{official:%a} {official.day} {official:%b %Y}, {_clock(official)} {official.tzname()}"
    if tz.key == ET.key:
        return text
    local = due_at.astimezone(tz)
    mine = f"{_clock(local)} {local.tzname()}"
    if local.date() != official.date():
        mine += f" on {local.day} {local:%b}"
    return f"{text} ({mine})"


def milestone_url(milestone: Milestone) -> str:
    return absolute_url("applicant:milestone_detail", milestone.template.key)


def unsubscribe_url(user) -> str:
    return absolute_url("applicant:reminder_unsubscribe", unsubscribe_token(user))


def message_id_for(kind: str, pk: int) -> str:
    """The Message-ID of a row ("reminder", "digest" or "comment"): derived from the row, which is about one
    deadline instant, so every attempt at it carries the same one. Recorded on the row at its first
    claim and reused from there."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "pathway.localhost"
    return f"<{kind}-{pk}@{domain}>"


def headers(message_id: str, unsubscribe: str) -> dict:
    return {
        # Stable per row: a resend after a crash or a lost reply carries the same id, so mail clients
        # fold it into the first copy.
        "Message-ID": message_id,
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }


def _guidance(template: MilestoneTemplate, sentences: int = 2, *, is_img: bool = True) -> list[str]:
    """The opening of the template's guidance (what to do first), short enough for an email, worded for
    the applicant's audience (issue 9: no "as an IMG" to a US graduate)."""
    guidance = for_audience(template.guidance, is_img=is_img)
    first_paragraph = " ".join(guidance.strip().split("\n\n")[0].split())
    parts = [p for p in re.split(r"(?<=[.!?])\s+", first_paragraph) if p]
    return [" ".join(parts[:sentences])] if parts else []


def item(
    milestone: Milestone,
    tz: zoneinfo.ZoneInfo,
    now: datetime,
    *,
    moved_from: datetime | None = None,
    is_img: bool | None = None,
) -> dict:
    """One deadline as an email shows it (a reminder has one, a digest a list); `moved_from` is the
    deadline an earlier reminder named, when it has moved since."""
    return {
        "title": milestone.template.title,
        "deadline": format_deadline(milestone.due_at, tz),
        "days_left": max(days_between(now, milestone.due_at, tz), 0),
        "projected": milestone.due_projected,
        "moved_from": format_deadline(moved_from, tz) if moved_from else "",
        "guidance": _guidance(
            milestone.template, is_img=milestone.applicant.profile.is_img if is_img is None else is_img
        ),
        "url": milestone_url(milestone),
    }


def moved_from(reminder: Reminder) -> datetime | None:
    """The deadline the latest reminder sent for this milestone named, if it is not this one's: the
    email then says the date moved, so it does not read like a repeat."""
    return (
        Reminder.objects.filter(milestone_id=reminder.milestone_id, status=Reminder.Status.SENT)
        .exclude(due_at=reminder.due_at)
        .order_by("-sent_at", "-pk")
        .values_list("due_at", flat=True)
        .first()
    )


def reminder_context(reminder: Reminder, *, now: datetime) -> dict:
    user = reminder.milestone.applicant
    earlier = reminder.moved_from_due if hasattr(reminder, "moved_from_due") else moved_from(reminder)
    return {
        "user": user,
        "item": item(reminder.milestone, applicant_tz(user.profile), now, moved_from=earlier),
        "unsubscribe_url": unsubscribe_url(user),
        "site_url": settings.SITE_URL,
    }


def digest_context(user, reminders: list[Reminder], day: date, *, now: datetime) -> dict:
    tz = applicant_tz(user.profile)
    return {
        "user": user,
        "items": [
            item(r.milestone, tz, now, moved_from=moved_from(r), is_img=user.profile.is_img)
            for r in reminders
        ],
        "day": day,
        "unsubscribe_url": unsubscribe_url(user),
        "site_url": settings.SITE_URL,
    }
