"""What a reminder or digest email says: the deadline on two clocks, the first steps, the links, and
the headers that make resends foldable and unsubscribing one click."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime

from django.conf import settings

from pathway.lib.times import ET, days_between
from pathway.lib.urls import absolute_url

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


def headers(message_key: str, unsubscribe: str) -> dict:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "pathway.localhost"
    return {
        # Stable per row: a resend after a crash carries the same id, so mail clients can fold it.
        "Message-ID": f"<{message_key}@{domain}>",
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }


def _guidance(template: MilestoneTemplate, sentences: int = 2) -> list[str]:
    """The opening of the template's guidance (what to do first), short enough for an email."""
    first_paragraph = " ".join(template.guidance.strip().split("\n\n")[0].split())
    parts = [p for p in re.split(r"(?<=[.!?])\s+", first_paragraph) if p]
    return [" ".join(parts[:sentences])] if parts else []


def item(milestone: Milestone, tz: zoneinfo.ZoneInfo, now: datetime) -> dict:
    """One deadline as an email shows it (a reminder has one, a digest a list)."""
    return {
        "title": milestone.template.title,
        "deadline": format_deadline(milestone.due_at, tz),
        "days_left": max(days_between(now, milestone.due_at, tz), 0),
        "projected": milestone.due_projected,
        "guidance": _guidance(milestone.template),
        "url": milestone_url(milestone),
    }


def reminder_context(reminder: Reminder, *, now: datetime) -> dict:
    user = reminder.milestone.applicant
    return {
        "user": user,
        "item": item(reminder.milestone, applicant_tz(user.profile), now),
        "unsubscribe_url": unsubscribe_url(user),
        "site_url": settings.SITE_URL,
    }


def digest_context(user, reminders: list[Reminder], day: date, *, now: datetime) -> dict:
    tz = applicant_tz(user.profile)
    return {
        "user": user,
        "items": [item(r.milestone, tz, now) for r in reminders],
        "day": day,
        "unsubscribe_url": unsubscribe_url(user),
        "site_url": settings.SITE_URL,
    }
