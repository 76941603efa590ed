"""What the applicant's settings page shows of their reminders: what was sent, and what failed and why."""

from __future__ import annotations

from django.db.models import Case, CharField, Value, When

from ..models import Reminder

# What an applicant reads for a failed reminder, by the start of the error recorded on it (the
# exception's name); the first match wins, and the technical text is shown next to it.
FAILURE_REASONS = [
    ("SMTPRecipientsRefused", "The mail server refused your address"),
    ("SMTPServerDisconnected", "The mail server closed the connection"),
    ("ConnectionRefusedError", "Our mail server could not be reached"),
    ("TimeoutError", "Our mail server did not answer in time"),
    ("SMTP", "The mail server refused the message"),
]
UNKNOWN_REASON = "The email could not be sent"


def reminders_for(applicant):
    """The applicant's sent and failed reminders, newest first, for their settings page; each failed
    one carries `why`, the reason in words."""
    return (
        Reminder.objects.filter(
            milestone__applicant=applicant, status__in=[Reminder.Status.SENT, Reminder.Status.FAILED]
        )
        .annotate(
            why=Case(
                *[When(last_error__startswith=prefix, then=Value(text)) for prefix, text in FAILURE_REASONS],
                default=Value(UNKNOWN_REASON),
                output_field=CharField(),
            )
        )
        .select_related("milestone__template")
        .order_by("-scheduled_for", "-pk")
    )
