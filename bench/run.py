"""Benchmarks (`make bench`): `bench/run.py reminders` (below) and `bench/run.py pages` (bench/pages.py).

Reminders: the planning sweep at scale, and sending throughput.

Needs DATABASE_URL pointing at a PostgreSQL server; a separate database (<its name>_bench) is created,
migrated and filled there, and dropped again at the end. With REDIS_URL set it also times the enqueue
and runs a real one-process worker; Redis database 14 (BENCH_REDIS_DB) is used and flushed.

Results are written to BENCHMARKS.md next to this directory's parent.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
# Named after the database of DATABASE_URL (pathway -> pathway_bench), so benchmarks of two checkouts
# on one server do not drop each other's database.
BENCH_DB_SUFFIX = "_bench"
APPLICANTS = 50_000
TEMPLATES = 20  # milestones per applicant: 50,000 x 20 = 1,000,000
DUE = 10_000
ALREADY_PLANNED = 20_000
SEND_SAMPLE = 2_000
THREADS = 4  # the worker's --concurrency with --pool=threads, as in docker-compose.yml
# Every email the SMTP sink accepts, by Message-ID (bench/sink.py).
SINK_LOG = ROOT / "var" / "bench-smtp-received.txt"
REDIS_BENCH_DB = int(os.environ.get("BENCH_REDIS_DB", 14))
TARGET_SWEEP_S = 2.0
TARGET_SEND_PER_S = 100.0
TARGET_PLAN_AND_ENQUEUE_S = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"SMTP sink on port {port} did not start")


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "load": "/".join(f"{x:.2f}" for x in os.getloadavg()),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def prepare_environment(smtp_port: int) -> str:
    """Point this process (and any worker) at the bench database and the SMTP sink, before Django loads."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("make bench needs DATABASE_URL=postgres://user@host:port/name (PostgreSQL).")
    import psycopg

    parsed = urlparse(url)
    global BENCH_DB
    BENCH_DB = bench_database_name(url, BENCH_DB_SUFFIX)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    bench_url = urlunparse(parsed._replace(path=f"/{BENCH_DB}"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["SMTP_HOST"] = "127.0.0.1"
    os.environ["SMTP_PORT"] = str(smtp_port)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pathway.settings")
    if os.environ.get("REDIS_URL"):
        r = urlparse(os.environ["REDIS_URL"])
        os.environ["REDIS_URL"] = f"redis://{r.hostname or '127.0.0.1'}:{r.port or 6379}/{REDIS_BENCH_DB}"
    return admin


BENCH_DB = ""


def bench_database_name(url: str, suffix: str) -> str:
    name = re.sub(r"\W", "", urlparse(url).path.lstrip("/")) or "pathway"
    return f"{name}{suffix}"


def drop_bench_database(admin_url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


# Lead-time sets of the 20 templates (all >= 3 days, so "due now" rows can be built by one formula).
LEAD_SETS = [[30, 14, 7], [90, 30, 7], [14, 3], [60, 30, 14, 7], [203, 56, 14], [7, 3], [30, 7, 3], [21, 7]] * 3


def load(now: datetime) -> dict:
    """1,000,000 milestones for 50,000 applicants, loaded with INSERT ... SELECT generate_series.

    Milestone g (1..1,000,000) belongs to applicant (g-1) // 20 + 1 and template (g-1) % 20. By g % 100:
      7          -> open and due now: its smallest lead time's send instant passed, no reminder yet (10,000)
      8, 9       -> the same, but the reminder was planned by an earlier sweep (20,000 rows to skip)
      10..49     -> done or waived (closed)
      50..59     -> open and overdue
      60..64     -> open without a deadline
      otherwise  -> open, deadline beyond every lead window (the bulk of a real database)
    Applicants with id % 5 == 3 turned email reminders off; none of them owns a "due now" milestone.
    """
    from django.db import connection

    from milestones.models import MatchCycle, MilestoneTemplate

    cycle = MatchCycle.objects.create(year=2027, name="2027 Match")
    templates = [
        MilestoneTemplate(
            key=f"bench_{i}", title=f"Bench milestone {i}", phase="match", order=i, guidance="Do the thing. Then check.",
            reminder_lead_days=LEAD_SETS[i],
        )
        for i in range(TEMPLATES)
    ]  # fmt: skip
    MilestoneTemplate.objects.bulk_create(templates)
    template_ids = list(MilestoneTemplate.objects.order_by("order").values_list("pk", flat=True))
    min_leads = [min(s) for s in LEAD_SETS[:TEMPLATES]]
    zones = ["America/New_York", "Asia/Karachi", "Africa/Cairo", "Europe/London", "Asia/Kolkata", "America/Chicago"]
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO pathway_user (id, email, password, name, role, is_active, is_staff, is_superuser, date_joined)
            SELECT g, 'bench' || g || '@example.com', '!', '', 'applicant', true, false, false, %(now)s
            FROM generate_series(1, %(n)s) g
            """,
            {"n": APPLICANTS, "now": now},
        )
        cur.execute(
            """
            INSERT INTO milestones_applicantprofile
                (user_id, applicant_type, graduation_date, needs_visa, visa_route, target_cycle_id, specialties,
                 time_zone, opted_in, email_reminders, reminder_lead_days, daily_digest, calendar_token, created_at,
                 nationality)
            SELECT g, 'NON_US_IMG', DATE '2025-06-30', false, '', %(cycle)s, '[]'::jsonb,
                   (%(zones)s::text[])[1 + g %% %(nz)s], '[]'::jsonb, g %% 5 <> 3, NULL, false, 'bench-' || g, %(now)s,
                   ''
            FROM generate_series(1, %(n)s) g
            """,
            {"n": APPLICANTS, "cycle": cycle.pk, "zones": zones, "nz": len(zones), "now": now},
        )
        cur.execute(
            """
            INSERT INTO milestones_milestone
                (id, applicant_id, template_id, status, waived_reason, due_at, due_projected, note, is_applicable,
                 updated_at)
            SELECT g, (g - 1) / 20 + 1, (%(templates)s::bigint[])[1 + (g - 1) %% 20],
                   CASE WHEN g %% 100 BETWEEN 10 AND 44 THEN 'done' WHEN g %% 100 BETWEEN 45 AND 49 THEN 'waived'
                        ELSE 'not_started' END,
                   '',
                   CASE WHEN g %% 100 BETWEEN 7 AND 9
                            THEN %(now)s + make_interval(days => (%(min_leads)s::int[])[1 + (g - 1) %% 20] - 2)
                        WHEN g %% 100 BETWEEN 10 AND 49 THEN %(now)s + make_interval(days => (g %% 600) - 300)
                        WHEN g %% 100 BETWEEN 50 AND 59 THEN %(now)s - make_interval(days => 1 + g %% 200)
                        WHEN g %% 100 BETWEEN 60 AND 64 THEN NULL
                        ELSE %(now)s + make_interval(days => 215 + g %% 500) END,
                   false, '', true, %(now)s
            FROM generate_series(1, %(n)s) g
            """,
            {"n": APPLICANTS * TEMPLATES, "templates": template_ids, "min_leads": min_leads, "now": now},
        )
        # Due-now milestones must belong to applicants who want email: move opted-out owners' ones aside.
        cur.execute(
            "UPDATE milestones_milestone SET due_at = due_at + interval '400 days' "
            "WHERE id % 100 BETWEEN 7 AND 9 AND applicant_id % 5 = 3"
        )
        cur.execute(
            """
            INSERT INTO milestones_reminder
                (milestone_id, due_at, lead_days, channel, status, scheduled_for, attempts, failures,
                 message_id, last_error, created_at, sent_at)
            SELECT m.id, m.due_at, (%(min_leads)s::int[])[1 + (m.id - 1) %% 20], 'email', 'sent', %(now)s, 1, 0,
                   '', '', %(now)s, %(now)s
            FROM milestones_milestone m WHERE m.id %% 100 IN (8, 9) AND m.applicant_id %% 5 <> 3
            """,
            {"min_leads": min_leads, "now": now},
        )
        cur.execute("SELECT count(*) FROM milestones_milestone WHERE id % 100 = 7 AND applicant_id % 5 <> 3")
        due = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM milestones_milestone")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM milestones_reminder")
        planned_before = cur.fetchone()[0]
    load_s = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {"milestones": total, "due": due, "planned_before": planned_before, "load_s": load_s}


def time_sweeps(now: datetime) -> dict:
    from milestones import reminders
    from milestones.reminders import postgresql

    # plan_due_reminders only plans and returns the ids (enqueueing is milestones.tasks' job, timed
    # separately below).
    postgresql.zone_names()  # a per-process cache: warm it like a long-running worker would
    started = time.perf_counter()
    first = reminders.plan_due_reminders(now=now)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = reminders.plan_due_reminders(now=now)
    second_s = time.perf_counter() - started
    return {"first_s": first_s, "first_planned": len(first.planned), "second_s": second_s,
            "second_planned": len(second.planned), "ids": first.planned}  # fmt: skip


def time_enqueue(ids: list[int]) -> float | None:
    if not os.environ.get("REDIS_URL"):
        return None
    import redis

    from milestones.tasks import enqueue

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    started = time.perf_counter()
    enqueue(ids, [])
    elapsed = time.perf_counter() - started
    client.flushdb()
    return elapsed


def time_in_process_sends(ids: list[int]) -> dict:
    """deliver_reminder in this process: first with a new SMTP connection per email, then with the
    per-process connection reuse that workers use."""
    from milestones import reminders
    from milestones.reminders import smtp

    half = len(ids) // 2
    reuse = smtp.SMTP_REUSE_IDLE_SECONDS
    smtp.SMTP_REUSE_IDLE_SECONDS = -1.0  # every connection counts as stale: reconnect per email
    started = time.perf_counter()
    outcomes = [reminders.deliver_reminder(reminder_id=pk) for pk in ids[:half]]
    fresh_s = time.perf_counter() - started
    smtp.SMTP_REUSE_IDLE_SECONDS = reuse
    started = time.perf_counter()
    outcomes += [reminders.deliver_reminder(reminder_id=pk) for pk in ids[half:]]
    persistent_s = time.perf_counter() - started
    assert outcomes.count("sent") == len(ids), outcomes[:5]
    return {"fresh_per_s": half / fresh_s, "persistent_per_s": (len(ids) - half) / persistent_s, "n": len(ids)}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def time_worker(ids: list[int], pool: str = "solo", concurrency: int = 1) -> dict | None:
    """A real `celery worker --pool=<pool> --concurrency=<n>` (one process) draining SEND_SAMPLE reminders
    from Redis, and what the SMTP sink received meanwhile (each Message-ID once, one per row)."""
    if not os.environ.get("REDIS_URL"):
        return None
    import redis

    from milestones.models import Reminder
    from milestones.tasks import enqueue

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    enqueue(ids, [])  # as the beat tick does: batches of milestones.tasks.BATCH_SIZE ids per message
    received_before = len(SINK_LOG.read_bytes().splitlines())
    cmd = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "pathway", "worker", f"--pool={pool}",
           f"--concurrency={concurrency}", "-Q", "default",
           "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=WARNING", "-n", "bench@%h"]  # fmt: skip
    # Production settings, as the worker runs in production (DEBUG off: no query log, no template
    # debug information).
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
           "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": "https://pathway.example", "CACHE_URL": os.environ["REDIS_URL"]}  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        # Start the clock at the first sent row, so worker start-up is not counted as sending time.
        # Poll cheaply (a range, four times a second): the poller shares the two CPUs with the worker.
        deadline = time.monotonic() + 300
        sent = Reminder.objects.filter(pk__gte=min(ids), pk__lte=max(ids), status=Reminder.Status.SENT)
        while not sent.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        started, cpu_start = time.perf_counter(), cpu_seconds(proc.pid)
        while sent.count() < len(ids) and time.monotonic() < deadline:
            time.sleep(0.25)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu_start
        if Reminder.objects.filter(pk__in=ids, status=Reminder.Status.SENT).count() < len(ids):
            raise SystemExit("the worker did not finish in 300 s")
        return {"per_s": len(ids) / elapsed, "cpu_ms": cpu / len(ids) * 1000, **received(ids, received_before)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        client.flushdb()


def received(ids: list[int], before: int) -> dict:
    """Never twice, never lost: the sink got exactly one email per row, each row's own Message-ID."""
    from milestones.reminders.content import message_id_for

    time.sleep(0.5)  # the last reply may reach the worker a moment before the sink's line is written
    got = [line.decode() for line in SINK_LOG.read_bytes().splitlines()[before:]]
    expected = {message_id_for("reminder", pk) for pk in ids}
    duplicates = len(got) - len(set(got))
    if duplicates or set(got) != expected:
        raise SystemExit(f"{len(got)} emails for {len(ids)} rows, {duplicates} duplicate Message-IDs")
    return {"received": len(got), "duplicates": duplicates}


def write_report(info: dict, data: dict, sweep: dict, enqueue_s, sends: dict, worker, threaded) -> None:
    from milestones.tasks import BATCH_SIZE  # Django is set up by now

    ok = lambda good: "meets target" if good else "MISSES target"  # noqa: E731
    lines = [
        "## Reminders (`bench/run.py reminders`)",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `DATABASE_URL={os.environ.get('BENCH_DISPLAY_URL', 'postgres://…')} "
        f"REDIS_URL={'redis://…' if os.environ.get('REDIS_URL') else '(unset)'} make bench`",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM; {info['os']}; Python {info['python']}",
        f"- Load average when the run started (1/5/15 min): {info['load']}; the machine is shared, so numbers "
        "vary by ±20% between runs",
        f"- Database: PostgreSQL {data['server_version']} on the same machine; SMTP: aiosmtpd Sink on loopback "
        "(separate process)",
        "",
        "### Planning sweep (`milestones.reminders.plan_due_reminders`)",
        "",
        f"Data: {data['milestones']:,} milestones for {APPLICANTS:,} applicants ({TEMPLATES} templates); "
        f"{data['due']:,} due now without a reminder, {data['planned_before']:,} already reminded, the rest closed, "
        f"overdue, without a deadline or outside every lead window; 20% of applicants opted out of email. "
        f"Loaded with INSERT … SELECT generate_series in {data['load_s']:.1f} s.",
        "",
        "| Measure | Result | Target | |",
        "|---|---|---|---|",
        f"| Sweep with {data['due']:,} due (one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING) "
        f"| {sweep['first_s']:.3f} s, {sweep['first_planned']:,} planned | < {TARGET_SWEEP_S:.0f} s "
        f"| {ok(sweep['first_s'] < TARGET_SWEEP_S and sweep['first_planned'] == data['due'])} |",
        f"| The same sweep again (steady state: nothing new) | {sweep['second_s']:.3f} s, "
        f"{sweep['second_planned']} planned | < {TARGET_SWEEP_S:.0f} s | {ok(sweep['second_s'] < TARGET_SWEEP_S)} |",
        f"| Enqueueing the new ids to Redis after commit (one producer, {BATCH_SIZE} ids per message) | "
        + (f"{enqueue_s:.3f} s for {sweep['first_planned']:,}" if enqueue_s is not None else "not run (no REDIS_URL)")
        + " | | |",
        f"| {data['due']:,} due reminders planned and enqueued, together | "
        + (
            f"{sweep['first_s'] + enqueue_s:.3f} s | < {TARGET_PLAN_AND_ENQUEUE_S:.0f} s "
            f"| {ok(sweep['first_s'] + enqueue_s < TARGET_PLAN_AND_ENQUEUE_S)} |"
            if enqueue_s is not None
            else "not run (no REDIS_URL) | | |"
        ),
        "",
        "### Sending throughput, one process, loopback SMTP",
        "",
        "| Measure | Emails/s | Target | |",
        "|---|---|---|---|",
        f"| In-process `deliver_reminder`, a new SMTP connection per email "
        f"| {sends['fresh_per_s']:.0f} | ≥ {TARGET_SEND_PER_S:.0f} | {ok(sends['fresh_per_s'] >= TARGET_SEND_PER_S)} |",
        f"| In-process `deliver_reminder`, SMTP connection reused per process (what workers do) "
        f"| {sends['persistent_per_s']:.0f} | ≥ {TARGET_SEND_PER_S:.0f} "
        f"| {ok(sends['persistent_per_s'] >= TARGET_SEND_PER_S)} |",
        f"| Real `celery worker --pool=solo` on Redis, DEBUG off ({BATCH_SIZE} reminders per task message, each claimed, "
        "re-checked, rendered, sent and marked on its own; acks_late, prefetch 1), wall clock | "
        + (
            f"{worker['per_s']:.0f} | ≥ {TARGET_SEND_PER_S:.0f} | {ok(worker['per_s'] >= TARGET_SEND_PER_S)} |"
            if worker is not None
            else "not run (no REDIS_URL) | | |"
        ),
        "| The same worker, by its own CPU time (emails per CPU-second of the worker process) | "
        + (
            f"{1000 / worker['cpu_ms']:.0f} ({worker['cpu_ms']:.1f} ms CPU per email) | ≥ {TARGET_SEND_PER_S:.0f} "
            f"| {ok(1000 / worker['cpu_ms'] >= TARGET_SEND_PER_S)} |"
            if worker is not None
            else "not run | | |"
        ),
        f"| One worker process, `--pool=threads --concurrency={THREADS}` (the production setting), wall clock; "
        "emails the SMTP sink received, duplicate Message-IDs | "
        + (
            f"{threaded['per_s']:.0f} ({threaded['cpu_ms']:.1f} ms CPU per email; {threaded['received']:,} received "
            f"for {SEND_SAMPLE:,} rows, {threaded['duplicates']} duplicates) | ≥ {TARGET_SEND_PER_S:.0f} "
            f"| {ok(threaded['per_s'] >= TARGET_SEND_PER_S)} |"
            if threaded is not None
            else "not run (no REDIS_URL) | | |"
        ),
        "",
        "Where the solo worker's wall time goes: "
        + (
            f"{1000 / worker['per_s']:.1f} ms per email, of which {worker['cpu_ms']:.1f} ms is the worker's own CPU "
            f"and {1000 / worker['per_s'] - worker['cpu_ms']:.1f} ms waiting — on the SMTP sink's replies, on "
            "the database's (claim, load, mark sent) and on a free CPU, one email after another. Sending is I/O-bound, so threads in "
            "one process overlap those waits; the per-row claim makes concurrent senders safe, and each thread "
            "has its own database and SMTP connection."
            if worker is not None
            else "not measured (no REDIS_URL)."
        ),
        "",
        f"Each in-process row is {sends['n'] // 2:,} emails; the worker rows are {SEND_SAMPLE:,} emails. Every email "
        "is rendered from the three templates (subject, text, HTML) with a signed unsubscribe link, and costs "
        "three database round trips besides (claim, load, mark sent), each claim and mark a durable commit.",
        "",
        "On this 2-CPU machine the worker shares the CPUs with PostgreSQL, Redis, the Python SMTP sink and "
        "the benchmark process, so its wall-clock rate is lower than its CPU time allows; the CPU-time row is "
        "what one worker process can do with a core to itself. Scale out with more worker processes (one per "
        "core), each with its thread pool — the claim makes any number of processes and threads safe.",
        "",
    ]
    update_section("reminders", lines)


HEADER = [
    "# Benchmarks",
    "",
    "Written by `make bench` (`.venv/bin/python bench/run.py`, every part); `bench/run.py reminders` or "
    "`bench/run.py pages` (or `cohort`, `directory`) re-runs one part and rewrites only its section.",
    "",
]
# Every part, in the order of BENCHMARKS.md; each has a main_<part> below and a section of its own.
PARTS = ("reminders", "pages", "cohort", "directory")


def update_section(name: str, lines: list[str]) -> None:
    """Replace one part's section of BENCHMARKS.md (between its markers), keeping the others."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else ""
    sections = {
        part: match.group(1)
        for part in PARTS
        if (match := re.search(f"<!-- {part} -->\n(.*?)<!-- /{part} -->\n", text, re.S))
    }
    sections[name] = "\n".join(lines).rstrip("\n") + "\n"
    body = [f"<!-- {part} -->\n{sections[part]}<!-- /{part} -->\n" for part in PARTS if part in sections]
    path.write_text("\n".join(HEADER) + "\n".join(body))


def main_reminders() -> None:
    sys.path.insert(0, str(ROOT))
    original_url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(original_url)
    os.environ["BENCH_DISPLAY_URL"] = urlunparse(parsed._replace(netloc=parsed.hostname or "", path="/…"))
    info = machine()
    port = free_port()
    SINK_LOG.unlink(missing_ok=True)
    SINK_LOG.parent.mkdir(exist_ok=True)
    SINK_LOG.touch()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "sink.MessageIdLog", str(SINK_LOG), "-l", f"127.0.0.1:{port}"],
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)},
    )
    admin_url = prepare_environment(port)
    try:
        wait_port(port)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        now = timezone.now()
        print("loading 1,000,000 milestones …", flush=True)
        data = load(now)
        data["server_version"] = connection.cursor().connection.info.server_version
        data["server_version"] = f"{data['server_version'] // 10000}.{data['server_version'] % 10000}"
        print(f"loaded in {data['load_s']:.1f} s; timing the sweep …", flush=True)
        sweep = time_sweeps(now)
        print(f"sweep: {sweep['first_s']:.3f} s ({sweep['first_planned']} planned), again {sweep['second_s']:.3f} s")
        enqueue_s = time_enqueue(sweep["ids"])
        ids = sorted(sweep["ids"])  # one INSERT: consecutive ids, so each slice is a cheap id range
        sends = time_in_process_sends(ids[:SEND_SAMPLE])
        print(f"in-process: {sends['fresh_per_s']:.0f}/s new connections, {sends['persistent_per_s']:.0f}/s reused")
        worker = time_worker(ids[SEND_SAMPLE : 2 * SEND_SAMPLE])
        threaded = time_worker(ids[2 * SEND_SAMPLE : 3 * SEND_SAMPLE], pool="threads", concurrency=THREADS)
        for name, run in (("solo", worker), (f"threads x{THREADS}", threaded)):
            if run is not None:
                print(f"worker {name}: {run['per_s']:.0f}/s wall clock, {run['cpu_ms']:.1f} ms CPU per email, "
                      f"{run['received']} received, {run['duplicates']} duplicates")
        write_report(info, data, sweep, enqueue_s, sends, worker, threaded)
        print("wrote BENCHMARKS.md")
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        drop_bench_database(admin_url)


def main_pages() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pages

    lines = pages.main(machine())
    if lines is not None:
        update_section("pages", lines)
        print("wrote the pages section of BENCHMARKS.md")


def main_cohort() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cohort

    lines = cohort.main(machine())
    if lines is not None:
        update_section("cohort", lines)
        print("wrote the advisor cohort section of BENCHMARKS.md")


def main_directory() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import directory

    update_section("directory", directory.main())
    print("wrote the program directory section of BENCHMARKS.md")


def main(argv: list[str]) -> None:
    """`bench/run.py [reminders|pages|cohort|directory]`: one part, or every part (each in a process of its own, since
    each configures Django its own way)."""
    parts = argv or list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if len(parts) > 1:
        for part in parts:
            subprocess.run([sys.executable, __file__, part], check=True)
        return
    globals()[f"main_{parts[0]}"]()


if __name__ == "__main__":
    main(sys.argv[1:])
