"""Deadline reminders: plan them in the database, deliver each one once, sweep up after crashes.

The database is the source of truth. A beat tick (every 5 minutes, UTC interval) runs the sweeper
(`requeue_stuck`) and the planner (`plan_due_reminders`); planning inserts one `Reminder` row per
(milestone, lead time, channel) whose send instant has come, under a unique constraint, and returns
only the newly inserted ids. Nothing is ever scheduled far ahead on the broker (ecosystem.md §3.1).

This package enqueues nothing and does not know Celery: planning and sweeping return ids, and
`milestones.tasks` (`plan_and_enqueue`, `requeue_and_enqueue`) hands them to the broker after commit,
so a worker never sees an uncommitted row.

Delivery guarantee, and why it is at-least-once: a row is claimed (planned -> sending, committed), the
email is handed to SMTP, and the row is marked sent right after the server accepts it, before anything
else (the SMTP connection stays open for the process's next email, so not even QUIT is in between). If
the process dies in that gap (one database round trip), the row stays in "sending"; the sweeper
returns it to "planned" after REMINDER_STUCK_AFTER_SECONDS and it is sent again. SMTP has no
idempotent submission, so the only alternative is at-most-once (a crash there would lose the
reminder), and a missed residency deadline costs a year while a duplicate costs a glance. The
duplicate carries the same Message-ID (derived from the row id), so mail clients can fold the two.

Applicants who chose the daily digest get their reminders planned for 08:00 local time and attached to
one `DigestDelivery` per local day (unique per user and date), delivered with the same claim/send/mark
steps; only a reminder whose deadline comes before the digest goes out alone.

Modules, by job:

- `schedule`: when a reminder is due (wall clock, lead times, digest hour); shared by both planners.
- `planning`: the sweep that inserts due rows and routes them alone or into a digest;
  `postgresql` (one SQL statement, production) and `portable` (the same rule in Python, SQLite).
- `sweeping`: stuck and orphaned rows back to the queue.
- `delivery`: claim, check, send and mark one reminder; `smtp`: the reused mail connection.
- `digest`: the daily digest.
- `content`: what the emails say, their links and headers.
- `unsubscribe`: the signed one-click token; `history`: the settings page's list.
"""

from .content import format_deadline, milestone_url, reminder_context, unsubscribe_url
from .delivery import deliver_reminder, mark_reminder_failed
from .digest import deliver_digest, mark_digest_failed
from .history import reminders_for
from .planning import PlanResult, plan_due_reminders
from .schedule import (
    DIGEST_HOUR,
    EMAIL,
    LAST_CALL,
    MAX_LEAD_DAYS,
    REMINDER_HOUR,
    applicant_tz,
    lead_days_for,
    reminder_send_at,
    zone,
)
from .sweeping import Requeued, requeue_stuck, stuck_after
from .unsubscribe import (
    UNSUBSCRIBE_MAX_AGE,
    UNSUBSCRIBE_SALT,
    unsubscribe_from_reminders,
    unsubscribe_token,
    user_for_unsubscribe_token,
)

__all__ = [
    "DIGEST_HOUR",
    "EMAIL",
    "LAST_CALL",
    "MAX_LEAD_DAYS",
    "REMINDER_HOUR",
    "UNSUBSCRIBE_MAX_AGE",
    "UNSUBSCRIBE_SALT",
    "PlanResult",
    "Requeued",
    "applicant_tz",
    "deliver_digest",
    "deliver_reminder",
    "format_deadline",
    "lead_days_for",
    "mark_digest_failed",
    "mark_reminder_failed",
    "milestone_url",
    "plan_due_reminders",
    "reminder_context",
    "reminder_send_at",
    "reminders_for",
    "requeue_stuck",
    "stuck_after",
    "unsubscribe_from_reminders",
    "unsubscribe_token",
    "unsubscribe_url",
    "user_for_unsubscribe_token",
    "zone",
]
