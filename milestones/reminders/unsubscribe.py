"""One-click unsubscribe: the signed token in every reminder email, and what it switches off."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction

from ..models import ApplicantProfile, DigestDelivery, Reminder
from ..versions import pathway_changed

UNSUBSCRIBE_SALT = "milestones.reminders.unsubscribe"
# Links in old emails keep working for a year; after that the settings page is the way.
UNSUBSCRIBE_MAX_AGE = timedelta(days=365)


def unsubscribe_token(user) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def user_for_unsubscribe_token(token: str):
    """The user a signed unsubscribe token names, or None when it is forged, altered or too old."""
    User = get_user_model()
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return User.objects.filter(pk=data.get("u")).select_related("profile").first()


@transaction.atomic
def unsubscribe_from_reminders(*, user) -> None:
    """Turn email reminders off and cancel the ones not yet being sent. Safe to call twice."""
    ApplicantProfile.objects.filter(user=user).update(email_reminders=False)
    Reminder.objects.filter(milestone__applicant=user, status=Reminder.Status.PLANNED).update(
        status=Reminder.Status.CANCELLED, last_error="applicant unsubscribed"
    )
    DigestDelivery.objects.filter(user=user, status=Reminder.Status.PLANNED).update(
        status=Reminder.Status.CANCELLED
    )
    pathway_changed(user.pk)
