"""Deadline reminders: plan them in the database, deliver each one once where SMTP allows it, lose none.

The database is the source of truth. A beat tick (every 5 minutes, UTC interval) runs the sweeper
(`requeue_stuck`) and the planner (`plan_due_reminders`); planning inserts one `Reminder` row per
(milestone, deadline instant, lead time, channel) whose send instant has come, under a unique
constraint that ignores cancelled rows, and returns only the newly inserted ids. Nothing is ever
scheduled far ahead on the broker (ecosystem.md §3.1).

A reminder belongs to a deadline instant. When a milestone's deadline moves, the planner cancels the
old instant's unsent rows and plans the new instant's lead times, even those whose old-instant rows
were sent (the email then says the date moved). At send time the row is checked against the milestone
as it is now: a row of an old instant, or one a fresher lead time of the same deadline has overtaken,
is cancelled instead of sent, and the content is rendered from the current deadline. Cancelled rows do
not block re-planning, so switching reminders back on (or reopening a milestone) plans them again.

This package enqueues nothing and does not know Celery: planning and sweeping return ids, and
`milestones.tasks` (`plan_and_enqueue`, `requeue_and_enqueue`) hands them to the broker after commit,
so a worker never sees an uncommitted row.

Never lost: SMTP errors are retried by the send task with backoff; when those retries run out, the row
is "failed" with a retry time, and the sweeper returns it to the queue at growing intervals
(REMINDER_FAILED_RETRY_SECONDS, doubling up to REMINDER_FAILED_RETRY_MAX_SECONDS) until its deadline
passes. Only a permanent refusal of the address (5xx to every recipient) stops the retries early.

Delivery guarantee, and why it is at-least-once: a row is claimed (planned -> sending, committed, with
the attempt and the row's Message-ID recorded before anything is sent), the email is handed to SMTP,
and the row is marked sent right after the server accepts it, before anything else (the connection
stays open for the process's next email, so not even QUIT is in between). The one window no SMTP client
can close runs from the server storing the message to the client reading its reply and marking the
row: a crash there (or no reply within SMTP_DATA_TIMEOUT) leaves the row unsent, and it is sent again.
SMTP has no idempotent submission, so the only alternative is at-most-once (a crash there would lose
the reminder), and a missed residency deadline costs a year while a duplicate costs a glance. The
window is kept short: the reply to the end of DATA is awaited far longer than any command's
(`smtp.EmailBackend`), and the send task's time limits exceed every SMTP timeout, so a slow server is
waited for instead of answered with a second copy. A repeat carries the same Message-ID, so mail
clients fold the two.

Applicants who chose the daily digest get their reminders planned for 08:00 local time and attached to
one `DigestDelivery` per local day (unique per user and date), delivered with the same claim/send/mark
steps; only a reminder whose deadline comes before the digest goes out alone.

Modules, by job:

- `schedule`: when a reminder is due (wall clock, lead times, digest hour) and when a failed one is
  tried again; shared by both planners, delivery and the sweeper.
- `planning`: the sweep that cancels moved deadlines' unsent rows, inserts due rows and routes them
  alone or into a digest; `postgresql` (one SQL statement, production) and `portable` (the same rule
  in Python, SQLite).
- `sweeping`: stuck, orphaned and failed rows back to the queue.
- `delivery`: claim, check, send and mark one reminder; `smtp`: the reused mail connection and the
  SMTP backend with a timeout per phase.
- `digest`: the daily digest.
- `comments`: the one email about an advisor's comment on a milestone (same steps, same sweeper).
- `content`: what the emails say, their links and headers.
- `unsubscribe`: the signed one-click token; `history`: the settings page's list.
"""

from .comments import deliver_comment, mark_comment_failed
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
from .smtp import send_time_limits
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
    "deliver_comment",
    "deliver_digest",
    "deliver_reminder",
    "format_deadline",
    "lead_days_for",
    "mark_comment_failed",
    "mark_digest_failed",
    "mark_reminder_failed",
    "milestone_url",
    "plan_due_reminders",
    "reminder_context",
    "reminder_send_at",
    "reminders_for",
    "requeue_stuck",
    "send_time_limits",
    "stuck_after",
    "unsubscribe_from_reminders",
    "unsubscribe_token",
    "unsubscribe_url",
    "user_for_unsubscribe_token",
    "zone",
]
