"""The profile's edit history keeps what the applicant changed, never the calendar address's secret."""

from __future__ import annotations

import pytest
from django.db import connection

from milestones import services
from milestones.models import ApplicantProfile

pytestmark = pytest.mark.django_db

HistoricalProfile = ApplicantProfile.history.model


def history_columns() -> set[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, HistoricalProfile._meta.db_table)
    return {column.name for column in description}


def test_the_history_table_has_no_calendar_token_column():
    # Dropped by a migration, so the tokens that rows written before it held are gone too.
    assert "calendar_token" not in history_columns()
    assert "calendar_token" not in {field.name for field in HistoricalProfile._meta.fields}


def test_regenerating_the_address_leaves_no_token_in_the_history(amira_profile):
    old = amira_profile.calendar_token
    services.regenerate_calendar_token(profile=amira_profile)
    new = amira_profile.calendar_token

    rows = list(HistoricalProfile.objects.filter(id=amira_profile.pk).values())

    assert rows
    assert not [row for row in rows if old in row.values() or new in row.values()]


def test_the_history_still_records_the_applicants_changes(amira_profile):
    amira_profile.time_zone = "Asia/Karachi"
    services.save_profile(profile=amira_profile, replan=True, by=amira_profile.user)

    latest = amira_profile.history.latest()
    assert latest.time_zone == "Asia/Karachi"
    assert latest.history_user == amira_profile.user
    assert amira_profile.history.count() >= 2
