"""Planning on PostgreSQL: the whole selection and insert in one statement (what production runs)."""

from __future__ import annotations

import functools
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection

from ..models import ApplicantProfile, Milestone, MilestoneTemplate, Reminder
from .schedule import DIGEST_HOUR, LAST_CALL, MAX_LEAD_DAYS, REMINDER_HOUR, NewRow

# One statement does the whole selection on PostgreSQL: a partial-index range scan over open
# milestones near their deadline, the lead times unnested from JSON, the send instant computed on the
# applicant's wall clock by the database's own tz rules, the freshest due lead time per milestone, and
# an insert that skips rows planned earlier for the same deadline instant (cancelled ones aside, as the
# partial unique index does). NOT EXISTS filters the already-planned rows cheaply (an anti-join); ON
# CONFLICT, naming the partial index by its columns and predicate, still guards against a concurrent
# sweep inserting the same row.
_PLAN_SQL = """
WITH candidates AS (
    SELECT m.id AS milestone_id, m.due_at, p.time_zone AS tz, p.daily_digest, lead.value::int AS lead_days
    FROM {milestone} m
    JOIN {template} t ON t.id = m.template_id
    JOIN {profile} p ON p.user_id = m.applicant_id
    JOIN {user} u ON u.id = m.applicant_id
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE
            WHEN jsonb_typeof(p.reminder_lead_days) = 'array' THEN p.reminder_lead_days
            WHEN jsonb_typeof(t.reminder_lead_days) = 'array' THEN t.reminder_lead_days
            ELSE '[]'::jsonb
        END
    ) AS lead(value)
    WHERE m.is_applicable AND m.status IN ('not_started', 'in_progress')
      AND m.due_at > %(now)s AND m.due_at <= %(horizon)s
      AND p.email_reminders AND u.is_active
      AND p.time_zone = ANY(%(zones)s)
      AND lead.value ~ '^[0-9]{{1,4}}$' AND lead.value::int <= %(max_lead)s
),
instants AS (
    SELECT milestone_id, lead_days, daily_digest, due_at,
        ((%(now)s AT TIME ZONE tz)::date + %(digest_hour)s::time) AT TIME ZONE tz AS digest_today,
        LEAST(
        (((due_at AT TIME ZONE tz)::date - lead_days)
            + CASE WHEN daily_digest THEN %(digest_hour)s::time ELSE %(reminder_hour)s::time END) AT TIME ZONE tz,
        due_at - %(last_call)s::interval
    ) AS send_at
    FROM candidates
),
freshest AS (
    SELECT DISTINCT ON (milestone_id) milestone_id, due_at, lead_days, send_at
    FROM instants
    WHERE send_at <= %(now)s
      AND (NOT daily_digest OR %(now)s >= digest_today OR due_at < digest_today)
    ORDER BY milestone_id, lead_days
),
inserted AS (
    INSERT INTO {reminder} (milestone_id, due_at, lead_days, channel, status, scheduled_for, attempts,
                            last_error, message_id, failures, created_at)
    SELECT f.milestone_id, f.due_at, f.lead_days, 'email', 'planned', f.send_at, 0, '', '', 0, %(now)s
    FROM freshest f
    WHERE NOT EXISTS (
        SELECT 1 FROM {reminder} r
        WHERE r.milestone_id = f.milestone_id AND r.due_at = f.due_at AND r.lead_days = f.lead_days
          AND r.channel = 'email' AND NOT (r.status = 'cancelled')
    )
    ON CONFLICT (milestone_id, due_at, lead_days, channel) WHERE NOT (status = 'cancelled') DO NOTHING
    RETURNING id, milestone_id
)
SELECT i.id, m.applicant_id, p.daily_digest, p.time_zone
FROM inserted i
JOIN {milestone} m ON m.id = i.milestone_id
JOIN {profile} p ON p.user_id = m.applicant_id
"""


@functools.cache
def zone_names() -> frozenset[str]:
    # pg_timezone_names reads the whole tz database (~170 ms): once per process is enough.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_timezone_names")
        return frozenset(row[0] for row in cursor.fetchall())


def _known_zones(cursor) -> list[str]:
    """The profiles' zones that PostgreSQL knows: one unknown name must not abort everyone's sweep."""
    cursor.execute(f"SELECT DISTINCT time_zone FROM {ApplicantProfile._meta.db_table} WHERE email_reminders")
    known = zone_names()
    return [name for (name,) in cursor.fetchall() if name in known]


def insert_due(now: datetime, horizon: datetime) -> list[NewRow]:
    """Insert the due reminders in one statement; returns the rows this call inserted."""
    User = get_user_model()
    sql = _PLAN_SQL.format(
        milestone=Milestone._meta.db_table,
        template=MilestoneTemplate._meta.db_table,
        profile=ApplicantProfile._meta.db_table,
        user=User._meta.db_table,
        reminder=Reminder._meta.db_table,
    )
    with connection.cursor() as cursor:
        zones = _known_zones(cursor)
        cursor.execute(
            sql,
            {
                "now": now,
                "horizon": horizon,
                "zones": zones,
                "max_lead": MAX_LEAD_DAYS,
                "reminder_hour": REMINDER_HOUR,
                "digest_hour": DIGEST_HOUR,
                "last_call": LAST_CALL,
            },
        )
        return [NewRow(*row) for row in cursor.fetchall()]
