"""Deadline reminders: plan them in the database, deliver each one once, sweep up after crashes.

The database is the source of truth. A beat tick (every 5 minutes, UTC interval) runs `requeue_stuck`
and `plan_due_reminders`; planning inserts one `Reminder` row per (milestone, lead time, channel) whose
send instant has come, under a unique constraint, and hands only the newly inserted ids to the broker
after commit. Nothing is ever scheduled far ahead on the broker (ecosystem.md §3.1).

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
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from time import monotonic

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import mailers
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from pathway.lib.emails import send_templated_email

from .models import ApplicantProfile, DigestDelivery, Milestone, MilestoneTemplate, Reminder

log = logging.getLogger(__name__)

EMAIL = "email"
# Individual reminders go out at 09:00 local time; the digest at 08:00 local, so its reminders are
# planned for 08:00 too (otherwise the 09:00 ones would wait for the next day's digest).
REMINDER_HOUR = time(9, 0)
DIGEST_HOUR = time(8, 0)
# Never remind in the last hour before a deadline: if 09:00 is later than that, remind one hour before.
LAST_CALL = timedelta(hours=1)
# Lead times above this are typos (a year is the longest sensible warning); they are ignored.
MAX_LEAD_DAYS = 3650
UNSUBSCRIBE_SALT = "milestones.reminders.unsubscribe"
# Links in old emails keep working for a year; after that the settings page is the way.
UNSUBSCRIBE_MAX_AGE = timedelta(days=365)
ET = zoneinfo.ZoneInfo(settings.CYCLE_TIME_ZONE)


def stuck_after() -> timedelta:
    """How long a row may sit in "sending" before the sweeper assumes its worker died.

    Longer than the send task's hard time limit and the longest retry backoff, so that a live task is
    never swept from under itself.
    """
    return timedelta(seconds=getattr(settings, "REMINDER_STUCK_AFTER_SECONDS", 600))


# --- When -------------------------------------------------------------------------------------------


def zone(name: str) -> zoneinfo.ZoneInfo:
    """A zone by name; one that no longer exists falls back to UTC rather than dropping mail."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def applicant_tz(profile: ApplicantProfile) -> zoneinfo.ZoneInfo:
    return zone(profile.time_zone)


def reminder_send_at(due_at: datetime, lead_days: int, tz: zoneinfo.ZoneInfo, *, hour: time = REMINDER_HOUR):
    """09:00 (or `hour`) on the applicant's wall clock, `lead_days` calendar days before the deadline's
    local date, as a UTC instant; never later than one hour before the deadline.

    Built from a local date and a wall-clock time, not by subtracting 24-hour blocks, so it stays at
    09:00 across a daylight-saving change.
    """
    local_day = due_at.astimezone(tz).date() - timedelta(days=lead_days)
    wall_clock = datetime.combine(local_day, hour, tzinfo=tz)
    return min(wall_clock, due_at - LAST_CALL).astimezone(UTC)


def lead_days_for(profile: ApplicantProfile, template: MilestoneTemplate) -> list[int]:
    """The applicant's own lead times if set, else the template's; junk values are skipped."""
    raw = profile.reminder_lead_days if isinstance(profile.reminder_lead_days, list) else template.reminder_lead_days
    if not isinstance(raw, list):
        return []
    return sorted({v for v in raw if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_LEAD_DAYS})


def _max_lead_days() -> int:
    """The longest lead time anyone uses: bounds the deadline range the sweep must look at."""
    longest = 0
    for raw in MilestoneTemplate.objects.values_list("reminder_lead_days", flat=True):
        longest = max([longest, *(v for v in raw or [] if isinstance(v, int))])
    custom = ApplicantProfile.objects.filter(email_reminders=True, reminder_lead_days__isnull=False)
    for raw in custom.values_list("reminder_lead_days", flat=True):
        if isinstance(raw, list):
            longest = max([longest, *(v for v in raw if isinstance(v, int))])
    return min(longest, MAX_LEAD_DAYS)


# --- Planning ---------------------------------------------------------------------------------------


@dataclass
class PlanResult:
    """What one planning sweep did: the new rows, and which of them went to the broker or a digest."""

    planned: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _NewRow:
    id: int
    user_id: int
    daily_digest: bool
    time_zone: str


def plan_due_reminders(*, now: datetime | None = None) -> PlanResult:
    """Insert the reminders whose send instant has come and enqueue only those new rows, on commit.

    When several lead times of one milestone are due at once (the applicant joined, or switched
    reminders on, late), only the smallest one is planned: the freshest reminder says everything the
    stale ones would, and three emails about one deadline in one morning read like a malfunction. The
    skipped lead times are never sent later either, because a smaller lead time stays the freshest.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=_max_lead_days() + 2)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            rows = _insert_due_postgresql(now, horizon)
        else:
            rows = _insert_due_portable(now, horizon)
        result = _route(rows, now)
        transaction.on_commit(functools.partial(_enqueue, result.enqueued, result.digests))
    return result


# One statement does the whole selection on PostgreSQL: a partial-index range scan over open
# milestones near their deadline, the lead times unnested from JSON, the send instant computed on the
# applicant's wall clock by the database's own tz rules, the freshest due lead time per milestone, and
# an insert that skips rows planned earlier. NOT EXISTS filters the already-planned rows cheaply (an
# anti-join); ON CONFLICT still guards against a concurrent sweep inserting the same row.
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
    SELECT DISTINCT ON (milestone_id) milestone_id, lead_days, send_at
    FROM instants
    WHERE send_at <= %(now)s
      AND (NOT daily_digest OR %(now)s >= digest_today OR due_at < digest_today)
    ORDER BY milestone_id, lead_days
),
inserted AS (
    INSERT INTO {reminder} (milestone_id, lead_days, channel, status, scheduled_for, attempts, last_error, created_at)
    SELECT f.milestone_id, f.lead_days, 'email', 'planned', f.send_at, 0, '', %(now)s
    FROM freshest f
    WHERE NOT EXISTS (
        SELECT 1 FROM {reminder} r
        WHERE r.milestone_id = f.milestone_id AND r.lead_days = f.lead_days AND r.channel = 'email'
    )
    ON CONFLICT (milestone_id, lead_days, channel) DO NOTHING
    RETURNING id, milestone_id
)
SELECT i.id, m.applicant_id, p.daily_digest, p.time_zone
FROM inserted i
JOIN {milestone} m ON m.id = i.milestone_id
JOIN {profile} p ON p.user_id = m.applicant_id
"""


@functools.cache
def _postgresql_zone_names() -> frozenset[str]:
    # pg_timezone_names reads the whole tz database (~170 ms): once per process is enough.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_timezone_names")
        return frozenset(row[0] for row in cursor.fetchall())


def _known_zones(cursor) -> list[str]:
    """The profiles' zones that PostgreSQL knows: one unknown name must not abort everyone's sweep."""
    cursor.execute(f"SELECT DISTINCT time_zone FROM {ApplicantProfile._meta.db_table} WHERE email_reminders")
    known = _postgresql_zone_names()
    return [name for (name,) in cursor.fetchall() if name in known]


def _insert_due_postgresql(now: datetime, horizon: datetime) -> list[_NewRow]:
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
        return [_NewRow(*row) for row in cursor.fetchall()]


def _digest_may_plan(due_at: datetime, now: datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Digest applicants' reminders wait for today's digest hour, unless the deadline comes first."""
    digest_today = datetime.combine(now.astimezone(tz).date(), DIGEST_HOUR, tzinfo=tz)
    return now >= digest_today or due_at < digest_today


def _insert_due_portable(now: datetime, horizon: datetime) -> list[_NewRow]:
    """The same selection in Python, for SQLite (`make run`); fine for thousands of milestones."""
    candidates = (
        Milestone.objects.open()
        .filter(
            due_at__gt=now,
            due_at__lte=horizon,
            applicant__is_active=True,
            applicant__profile__email_reminders=True,
        )
        .select_related("template", "applicant__profile")
    )
    wanted: list[Reminder] = []
    for milestone in candidates:
        profile = milestone.applicant.profile
        tz = applicant_tz(profile)
        hour = DIGEST_HOUR if profile.daily_digest else REMINDER_HOUR
        if profile.daily_digest and not _digest_may_plan(milestone.due_at, now, tz):
            continue
        due = [
            (lead, send_at)
            for lead in lead_days_for(profile, milestone.template)
            if (send_at := reminder_send_at(milestone.due_at, lead, tz, hour=hour)) <= now
        ]
        if due:
            lead, send_at = min(due)
            wanted.append(Reminder(milestone=milestone, lead_days=lead, channel=EMAIL, scheduled_for=send_at))
    if not wanted:
        return []
    existing = set(
        Reminder.objects.filter(milestone__in=[r.milestone_id for r in wanted], channel=EMAIL).values_list(
            "milestone_id", "lead_days"
        )
    )
    fresh = [r for r in wanted if (r.milestone_id, r.lead_days) not in existing]
    if not fresh:
        return []
    for reminder in fresh:
        reminder.created_at = now
    # ignore_conflicts returns no ids; the rows are found again by their keys and this sweep's stamp.
    Reminder.objects.bulk_create(fresh, ignore_conflicts=True)
    keys = Q()
    for r in fresh:
        keys |= Q(milestone_id=r.milestone_id, lead_days=r.lead_days)
    inserted = Reminder.objects.filter(keys, channel=EMAIL, created_at=now).select_related(
        "milestone__applicant__profile"
    )
    return [
        _NewRow(r.pk, r.milestone.applicant_id, r.milestone.applicant.profile.daily_digest, r.milestone.applicant.profile.time_zone)
        for r in inserted
    ]


def _route(rows: list[_NewRow], now: datetime) -> PlanResult:
    """Send new rows alone, or attach them to today's digest for applicants who chose the digest."""
    result = PlanResult(planned=[r.id for r in rows])
    by_user: dict[int, list[_NewRow]] = defaultdict(list)
    for row in rows:
        if row.daily_digest:
            by_user[row.user_id].append(row)
        else:
            result.enqueued.append(row.id)
    for user_id, user_rows in by_user.items():
        ids = [r.id for r in user_rows]
        local_now = now.astimezone(zone(user_rows[0].time_zone))
        if local_now.time() < DIGEST_HOUR:
            # Only urgent rows are planned before the digest hour (their deadline comes first): they
            # cannot wait for the digest.
            result.enqueued.extend(ids)
            continue
        digest, created = DigestDelivery.objects.get_or_create(user_id=user_id, local_date=local_now.date())
        # Lock the digest so its send task cannot claim it between this check and the attach.
        still_open = DigestDelivery.objects.select_for_update().filter(pk=digest.pk, status=Reminder.Status.PLANNED)
        if still_open.exists():
            Reminder.objects.filter(pk__in=ids).update(digest=digest)
            if created:
                result.digests.append(digest.pk)
        else:
            # Today's digest has gone already: a reminder that came due later in the day goes alone.
            result.enqueued.extend(ids)
    return result


def _enqueue(reminder_ids: list[int], digest_ids: list[int]) -> None:
    """Hand ids to the broker. Runs after commit, so a worker never sees an uncommitted row."""
    from .tasks import send_digest, send_reminder

    if not reminder_ids and not digest_ids:
        return
    # One producer (one broker connection) for the whole batch: a sweep can enqueue thousands.
    with send_reminder.app.producer_or_acquire() as producer:
        for pk in reminder_ids:
            send_reminder.apply_async((pk,), producer=producer)
        for pk in digest_ids:
            send_digest.apply_async((pk,), producer=producer)


# --- Sweeping ---------------------------------------------------------------------------------------


def requeue_stuck(*, now: datetime | None = None, older_than: timedelta | None = None) -> int:
    """Return rows stuck in "sending" to "planned" and re-enqueue planned rows nobody is working on.

    A row stays in "sending" when its worker was killed mid-send; a planned row is orphaned when its
    broker message was lost (a worker killed with the message reserved, a failed enqueue after commit).
    Enqueueing a row twice is harmless: only one task can claim it.
    """
    now = now or timezone.now()
    cutoff = now - (older_than if older_than is not None else stuck_after())
    idle = Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff)
    with transaction.atomic():
        # skip_locked: a row a live worker is marking sent right now is not stuck; leave it alone.
        stuck = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=Reminder.Status.SENDING, claimed_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        Reminder.objects.filter(pk__in=stuck).update(status=Reminder.Status.PLANNED)
        stuck_digests = list(
            DigestDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=Reminder.Status.SENDING, claimed_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        DigestDelivery.objects.filter(pk__in=stuck_digests).update(status=Reminder.Status.PLANNED)
        reminder_ids = list(
            Reminder.objects.filter(idle, status=Reminder.Status.PLANNED, digest__isnull=True).values_list(
                "pk", flat=True
            )
        )
        digest_ids = list(
            DigestDelivery.objects.filter(idle, status=Reminder.Status.PLANNED).values_list("pk", flat=True)
        )
        transaction.on_commit(functools.partial(_enqueue, reminder_ids, digest_ids))
    if stuck or stuck_digests:
        log.warning("requeued %d stuck reminders and %d stuck digests", len(stuck), len(stuck_digests))
    return len(reminder_ids) + len(digest_ids)


# --- Delivering one reminder ------------------------------------------------------------------------


def _why_not(reminder: Reminder, now: datetime) -> str:
    """Assert the world again at send time: why this reminder must not go out now, or ""."""
    milestone = reminder.milestone
    user = milestone.applicant
    profile = getattr(user, "profile", None)
    if not milestone.is_open or not milestone.is_applicable:
        return "milestone is no longer open"
    if milestone.due_at is None or milestone.due_at <= now:
        return "deadline has passed"
    if not user.is_active:
        return "account is inactive"
    if profile is None or not profile.email_reminders:
        return "applicant turned email reminders off"
    return ""


def deliver_reminder(*, reminder_id: int, mailer=None) -> str:
    """Claim, re-check, send and mark one reminder; returns what happened ("sent", "skipped", ...)."""
    now = timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PLANNED).update(
        status=Reminder.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return "skipped"  # sent, cancelled, or another worker holds it
    reminder = Reminder.objects.select_related("milestone__template", "milestone__applicant__profile").get(
        pk=reminder_id
    )
    if reason := _why_not(reminder, now):
        Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING).update(
            status=Reminder.Status.CANCELLED, last_error=reason
        )
        return "cancelled"
    try:
        context = reminder_context(reminder, now=now)
        with _smtp(mailer) as connection:
            send_templated_email(
                "milestone_reminder",
                to=[reminder.milestone.applicant.email],
                context=context,
                headers=_headers(f"reminder-{reminder.pk}", context["unsubscribe_url"]),
                mailer=connection,
            )
    except BaseException as exc:
        # Back to planned so that Celery's retry (or the sweeper) can claim it again.
        Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING).update(
            status=Reminder.Status.PLANNED, last_error=_describe(exc)
        )
        raise
    # Marked right after the server accepted the message, before anything else (even SMTP QUIT):
    # this short gap is the whole at-least-once window described at the top of this module.
    Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING).update(
        status=Reminder.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def mark_reminder_failed(*, reminder_id: int, error: BaseException) -> None:
    """Retries ran out: the applicant sees it as failed on their settings page."""
    Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PLANNED).update(
        status=Reminder.Status.FAILED, last_error=_describe(error)
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


_shared = threading.local()
# Servers hang up on idle clients (RFC 5321 asks them to wait 5 minutes; some wait less).
SMTP_REUSE_IDLE_SECONDS = 30.0


@contextlib.contextmanager
def _smtp(mailer=None):
    """An open mail connection: the caller's, or one this process (thread) reuses between tasks.

    Reusing it saves the connect, EHLO and QUIT round trips of every email (BENCHMARKS.md). It is
    dropped after any error, after being idle a while, and when the mail settings change (tests).
    """
    if mailer is not None:
        yield mailer
        return
    key = repr(getattr(settings, "MAILERS", {}).get("default"))
    connection_, used_at, used_key = getattr(_shared, "state", (None, 0.0, None))
    _shared.state = (None, 0.0, None)  # not shared while in use: an error must not leave it behind
    if connection_ is not None and (used_key != key or monotonic() - used_at > SMTP_REUSE_IDLE_SECONDS):
        _close_quietly(connection_)
        connection_ = None
    if connection_ is None:
        connection_ = mailers.default
        connection_.open()
    try:
        yield connection_
    except BaseException:
        _close_quietly(connection_)
        raise
    _shared.state = (connection_, monotonic(), key)


def _close_quietly(mailer) -> None:
    try:
        mailer.close()
    except Exception:  # the message is already accepted or already failed; QUIT errors change nothing
        log.debug("closing the SMTP connection failed", exc_info=True)


# --- Email content ----------------------------------------------------------------------------------


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
    try:
        path = reverse("applicant:milestone_detail", args=[milestone.template.key])
    except NoReverseMatch:
        path = f"/milestones/{milestone.template.key}/"
    return settings.SITE_URL + path


def unsubscribe_token(user) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user) -> str:
    return settings.SITE_URL + reverse("applicant:reminder_unsubscribe", args=[unsubscribe_token(user)])


def _headers(message_key: str, unsubscribe: str) -> dict:
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


def _item(milestone: Milestone, tz: zoneinfo.ZoneInfo, now: datetime) -> dict:
    return {
        "title": milestone.template.title,
        "deadline": format_deadline(milestone.due_at, tz),
        "days_left": max((milestone.due_at.astimezone(tz).date() - now.astimezone(tz).date()).days, 0),
        "projected": milestone.due_projected,
        "guidance": _guidance(milestone.template),
        "url": milestone_url(milestone),
    }


def reminder_context(reminder: Reminder, *, now: datetime) -> dict:
    user = reminder.milestone.applicant
    return {
        "user": user,
        "item": _item(reminder.milestone, applicant_tz(user.profile), now),
        "unsubscribe_url": unsubscribe_url(user),
        "site_url": settings.SITE_URL,
    }


# --- Daily digest -----------------------------------------------------------------------------------


def deliver_digest(*, digest_id: int, mailer=None) -> str:
    """Send one applicant's digest for one local day: every reminder attached to it, in one email."""
    now = timezone.now()
    claimed = DigestDelivery.objects.filter(pk=digest_id, status=Reminder.Status.PLANNED).update(
        status=Reminder.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return "skipped"
    digest = DigestDelivery.objects.select_related("user__profile").get(pk=digest_id)
    rows = list(
        digest.reminders.filter(status=Reminder.Status.PLANNED)
        .select_related("milestone__template", "milestone__applicant__profile")
        .order_by("milestone__due_at")
    )
    keep, drop = [], []
    for row in rows:
        (drop if _why_not(row, now) else keep).append(row)
    Reminder.objects.filter(pk__in=[r.pk for r in drop], status=Reminder.Status.PLANNED).update(
        status=Reminder.Status.CANCELLED, last_error="no longer due at digest time"
    )
    if not keep:
        DigestDelivery.objects.filter(pk=digest_id).update(status=Reminder.Status.CANCELLED)
        return "cancelled"
    user = digest.user
    tz = applicant_tz(user.profile)
    unsubscribe = unsubscribe_url(user)
    try:
        with _smtp(mailer) as connection:
            send_templated_email(
                "reminder_digest",
                to=[user.email],
                context={
                    "user": user,
                    "items": [_item(r.milestone, tz, now) for r in keep],
                    "day": digest.local_date,
                    "unsubscribe_url": unsubscribe,
                    "site_url": settings.SITE_URL,
                },
                headers=_headers(f"digest-{digest.pk}", unsubscribe),
                mailer=connection,
            )
    except BaseException as exc:
        DigestDelivery.objects.filter(pk=digest_id, status=Reminder.Status.SENDING).update(
            status=Reminder.Status.PLANNED, last_error=_describe(exc)
        )
        raise
    sent_at = timezone.now()
    with transaction.atomic():
        DigestDelivery.objects.filter(pk=digest_id, status=Reminder.Status.SENDING).update(
            status=Reminder.Status.SENT, sent_at=sent_at, last_error=""
        )
        Reminder.objects.filter(pk__in=[r.pk for r in keep], status=Reminder.Status.PLANNED).update(
            status=Reminder.Status.SENT, sent_at=sent_at, attempts=F("attempts") + 1, claimed_at=now
        )
    return "sent"


def mark_digest_failed(*, digest_id: int, error: BaseException) -> None:
    """Retries ran out for a digest: it and its reminders show as failed."""
    with transaction.atomic():
        if DigestDelivery.objects.filter(pk=digest_id, status=Reminder.Status.PLANNED).update(
            status=Reminder.Status.FAILED, last_error=_describe(error)
        ):
            Reminder.objects.filter(digest_id=digest_id, status=Reminder.Status.PLANNED).update(
                status=Reminder.Status.FAILED, last_error=_describe(error)
            )


# --- Reading and unsubscribing ----------------------------------------------------------------------


def reminders_for(applicant):
    """The applicant's sent and failed reminders, newest first, for their settings page."""
    return (
        Reminder.objects.filter(
            milestone__applicant=applicant, status__in=[Reminder.Status.SENT, Reminder.Status.FAILED]
        )
        .select_related("milestone__template")
        .order_by("-scheduled_for", "-pk")
    )


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

