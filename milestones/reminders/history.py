"""What the applicant's settings page shows of their reminders."""

from __future__ import annotations

from ..models import Reminder


def reminders_for(applicant):
    """The applicant's sent and failed reminders, newest first, for their settings page."""
    return (
        Reminder.objects.filter(
            milestone__applicant=applicant, status__in=[Reminder.Status.SENT, Reminder.Status.FAILED]
        )
        .select_related("milestone__template")
        .order_by("-scheduled_for", "-pk")
    )
