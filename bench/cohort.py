"""The advisor cohort benchmark (`bench/run.py cohort`, part of `make bench`): 2,000 students of about
45 milestones each in PostgreSQL, then

- the cohort page's server time for a page of 50 (target p50 < 100 ms) and the cohort picture's (the
  funnel, target < 200 ms), through Django's test client in this process;
- the cohort page's requests per second under gunicorn (production settings, 2 workers x 4 threads,
  wrk with 8 connections) beside a trivial page (the anonymous front page) measured in the same run
  (target: at least a fifth of it).

Self-contained: its own database (pathway_bench_cohort, dropped at the end) and its own section of
BENCHMARKS.md (replaced on each run, the rest of the file left alone). Needs DATABASE_URL (PostgreSQL),
REDIS_URL (production settings keep the cache in Redis; database 13 is used and flushed) and `wrk`.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
# Named after DATABASE_URL's database (pathway -> pathway_bench_cohort): two checkouts on one server
# do not drop each other's. Redis database and port can be chosen the same way as bench/pages.py's.
BENCH_DB = "pathway_bench_cohort"
REDIS_DB = int(os.environ.get("BENCH_CACHE_REDIS_DB", 13))
STUDENTS = 2_000
PAGE_RUNS = 40
FUNNEL_RUNS = 20
WRK_SECONDS = 10
TARGET_PAGE_MS, TARGET_FUNNEL_MS, TARGET_RATIO = 100.0, 200.0, 0.2
SECTION = "## Advisor cohort"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_environment() -> tuple[str, dict]:
    """Production settings for this process and gunicorn, pointed at the bench database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/run.py cohort needs DATABASE_URL=postgres://user@host:port/name (PostgreSQL).")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("bench/run.py cohort needs REDIS_URL (production settings keep the cache in Redis).")
    if not shutil.which("wrk"):
        raise SystemExit("bench/run.py cohort needs wrk (apt-get install wrk).")
    import psycopg

    global BENCH_DB
    parsed = urlparse(url)
    BENCH_DB = (re.sub(r"\W", "", parsed.path.lstrip("/")) or "pathway") + "_bench_cohort"
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    redis = urlparse(os.environ["REDIS_URL"])
    redis_url = f"redis://{redis.hostname or '127.0.0.1'}:{redis.port or 6379}/{REDIS_DB}"
    static_root = tempfile.mkdtemp(prefix="pathway-bench-static-")
    env = {
        "DJANGO_SETTINGS_MODULE": "pathway.settings",
        "DATABASE_URL": urlunparse(parsed._replace(path=f"/{BENCH_DB}")),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-any-real-site-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SMTP_HOST": "127.0.0.1",
        "SITE_URL": "https://pathway.bench.example",
        "CACHE_URL": redis_url,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": static_root,
    }
    os.environ.update(env)
    return admin, env


def seed(now: datetime) -> dict:
    """2,000 students sharing with one advisor, every template on each pathway (milestones by one
    INSERT ... SELECT), progress, deadlines and risk flags spread by formula."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.core.management import call_command
    from django.db import connection

    from milestones.models import ApplicantProfile, MatchCycle, Milestone, MilestoneTemplate
    from pathway.models import AdvisorAssignment, StudentRiskFlag, User

    started = time.perf_counter()
    call_command("load_pathway", verbosity=0)
    advisor = User.objects.create_user(email="bench-advisor@example.com", role=User.Role.ADVISOR, name="Bench")
    TOTP.activate(advisor, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # advisors need a second factor
    cycle = MatchCycle.objects.get(year=2027)
    users = User.objects.bulk_create(
        [User(email=f"student{i:05d}@bench.example", name=f"Student {i:05d}", password="!") for i in range(STUDENTS)]
    )
    kinds = ("US_MD", "US_DO", "US_IMG", "NON_US_IMG")
    specialties = ("Internal Medicine", "Pediatrics", "Family Medicine", "Psychiatry", "General Surgery")
    ApplicantProfile.objects.bulk_create(
        ApplicantProfile(
            user=u,
            applicant_type=kinds[i % 4],
            graduation_date="2026-05-29",
            target_cycle=cycle,
            specialties=[specialties[i % 5]],
            calendar_token=f"bench-{u.pk}",
        )
        for i, u in enumerate(users)
    )
    AdvisorAssignment.objects.bulk_create(AdvisorAssignment(advisor=advisor, applicant=u, accepted_at=now) for u in users)
    templates = MilestoneTemplate._meta.db_table
    with connection.cursor() as cursor:
        # Student u has done the first (u * 7) % 40 steps in pathway order; the rest are open, due
        # every nine days from then on, shifted by up to 16 days so some are overdue.
        cursor.execute(
            f"""
            INSERT INTO {Milestone._meta.db_table}
                (applicant_id, template_id, status, waived_reason, due_at, due_projected, completed_on, note,
                 is_applicable, updated_at)
            SELECT u.id, t.id,
                   CASE WHEN t.rank < (u.id * 7) %% 40 THEN 'done'
                        WHEN t.rank = (u.id * 7) %% 40 THEN 'in_progress' ELSE 'not_started' END,
                   '', %s + make_interval(days => ((t.rank - (u.id * 7) %% 40) * 9 - (u.id %% 5) * 4)::int), false,
                   NULL, '', true, %s - make_interval(hours => (u.id %% 500)::int)
            FROM {User._meta.db_table} u
            CROSS JOIN (SELECT id, row_number() OVER (ORDER BY "order", key) - 1 AS rank FROM {templates}
                        WHERE is_active) t
            WHERE u.role = 'applicant'
            """,
            [now, now],
        )
        milestones = cursor.rowcount
    codes = ["ecfmg_unverified", "img_rol_gate", "rol_not_certified", "match_unreachable"]
    StudentRiskFlag.objects.bulk_create(
        StudentRiskFlag(applicant=u, code=codes[i % 4], severity="red", since=now) for i, u in enumerate(users) if i % 7 == 0
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"advisor": advisor, "milestones": milestones, "seed_s": time.perf_counter() - started}


def timed(client, url: str, runs: int, before=None) -> dict:
    client.get(url, secure=True)  # warm-up
    times, cpu = [], []
    for _ in range(runs):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, secure=True)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "max": times[-1],
        # This process's CPU (Python: middleware, ORM, templates), not PostgreSQL's: steadier than the wall
        # clock on a shared machine.
        "cpu": statistics.median(cpu),
    }


def time_pages(advisor) -> dict:
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    client.force_login(advisor)
    return {
        # The table's content is cached per advisor until a student changes (pathway/web/advisor/cohort.py):
        # the first row is what the first request after a change costs, the others a request in between.
        "default, built afresh (cache cleared before each request)": timed(
            client, "/advisor/", PAGE_RUNS, before=cache.clear
        ),
        "default": timed(client, "/advisor/", PAGE_RUNS),
        "page 20 by name": timed(client, "/advisor/?sort=name&page=20", PAGE_RUNS),
        "at risk, by next deadline": timed(client, "/advisor/?risk=any&sort=next_due", PAGE_RUNS),
        "filtered (type, specialty, phase)": timed(
            client, "/advisor/?type=US_IMG&specialty=Pediatrics&phase=application", PAGE_RUNS
        ),
        "htmx table alone": timed_htmx(client),
        "funnel": timed(client, "/advisor/picture/", FUNNEL_RUNS),
        "csv export (2,000 rows)": timed(client, "/advisor/cohort.csv", 5),
        "trivial": timed(Client(), "/", PAGE_RUNS),
    }


def timed_htmx(client) -> dict:
    client.defaults["HTTP_HX_REQUEST"] = "true"
    try:
        return timed(client, "/advisor/?sort=-overdue", PAGE_RUNS)
    finally:
        del client.defaults["HTTP_HX_REQUEST"]


def session_cookie(advisor) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(advisor.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = advisor.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def wrk(port: int, path: str, cookie: str | None, master: int | None = None) -> float:
    headers = ["-H", "X-Forwarded-Proto: https"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
    from pages import cpu_seconds, worker_pids  # the page benchmark's reading of /proc

    pids = worker_pids(master) if master else []
    cpu_before = sum(cpu_seconds(pids))
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{WRK_SECONDS}s", "--latency", *headers, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = sum(cpu_seconds(pids)) - cpu_before
    if "Non-2xx" in out:
        raise SystemExit(f"wrk on {path} got errors:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    CPU_MS[path] = cpu / max(requests, 1) * 1000
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


CPU_MS: dict[str, float] = {}  # path -> the gunicorn workers' CPU ms per request in the last wrk run


def time_gunicorn(env: dict, advisor) -> dict:
    port = int(os.environ.get("BENCH_PORT") or free_port())
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c", "python:pathway.gunicorn_conf",
            "--workers", "2", "--threads", "4",
            "--bind", f"127.0.0.1:{port}",
            "pathway.wsgi",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        cookie = session_cookie(advisor)
        wrk(port, "/", None)  # warm-up of every worker
        wrk(port, "/advisor/", cookie)
        trivial = wrk(port, "/", None, server.pid)
        cohort = wrk(port, "/advisor/", cookie, server.pid)
        return {"trivial": trivial, "cohort": cohort, "trivial_cpu": CPU_MS["/"], "cohort_cpu": CPU_MS["/advisor/"]}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        "unknown",
    )
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}); {platform.platform()}; Python {platform.python_version()}; load average {load} at the start"


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def report(info: str, seeded: dict, pages: dict, served: dict, server_version: str) -> str:
    ratio = served["cohort"] / served["trivial"]
    lines = [
        SECTION,
        "",
        "Written by `bench/run.py cohort` (`.venv/bin/python bench/run.py cohort`, also run by `make bench`).",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {info}",
        f"- Database: PostgreSQL {server_version} on the same machine; production settings (DEBUG off, Redis cache)",
        f"- Data: {STUDENTS:,} students sharing with one advisor, {seeded['milestones']:,} milestones "
        f"(every template on each pathway), progress and deadlines spread by formula, a risk flag on every "
        f"seventh student; seeded in {seeded['seed_s']:.1f} s (bulk inserts)",
        "",
        "### Server time in process (Django test client, production settings)",
        "",
        "| Request | p50 | p95 | max | Python CPU p50 | Target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, t in pages.items():
        if name == "trivial":
            lines.append(
                f"| Trivial page (anonymous front page), for scale | {t['p50']:.1f} ms | {t['p95']:.1f} ms | "
                f"{t['max']:.1f} ms | {t['cpu']:.1f} ms | | |"
            )
            continue
        target = TARGET_FUNNEL_MS if name == "funnel" else None if name.startswith("csv") else TARGET_PAGE_MS
        mark = verdict(t["p50"] < target) if target else ""
        lines.append(
            f"| {'Cohort picture (funnel and coming weeks)' if name == 'funnel' else f'Cohort page of 50: {name}' if not name.startswith('csv') else 'CSV export, ' + name[4:]} "
            f"| {t['p50']:.1f} ms | {t['p95']:.1f} ms | {t['max']:.1f} ms | {t['cpu']:.1f} ms | "
            f"{f'p50 < {target:.0f} ms' if target else '(none)'} | {mark} |"
        )
    lines += [
        "",
        "### Requests per second under gunicorn (2 workers x 4 threads; wrk -t2 -c8, "
        f"{WRK_SECONDS} s each, same run)",
        "",
        "| Page | Requests/s | Server CPU ms/request (CPU ratio) | Target | |",
        "|---|---|---|---|---|",
        f"| Trivial page (the anonymous front page) | {served['trivial']:.0f} | {served['trivial_cpu']:.1f} | | |",
        f"| Cohort page (first page of 50 of 2,000, logged-in advisor) | {served['cohort']:.0f} "
        f"({ratio:.2f} of the trivial page) | {served['cohort_cpu']:.1f} "
        f"({served['trivial_cpu'] / served['cohort_cpu']:.2f}) | >= 0.20 of the trivial page | "
        f"{verdict(ratio >= TARGET_RATIO)} |",
        "",
        "wrk, gunicorn, PostgreSQL and Redis share the machine's cores (and, on this machine, other "
        "people's test runs: see the load average), so the absolute rates are the machine's; the ratio is "
        "the measure. Server CPU: the gunicorn workers' user + system time per request; the CPU ratio (the "
        "trivial page's over the cohort's) is the same comparison by the workers' CPU alone, which a busy "
        "machine disturbs less. Between two changes of the advisor's students the cohort's content comes "
        "from the cache (one version query, one cache read); the first request after a change builds it "
        "(the 'built afresh' row: ten queries and fifty rows).",
        "",
    ]
    return "\n".join(lines)


def drop(admin_url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def main(_machine: dict | None = None) -> list[str]:
    """Run the benchmark; returns the lines of its BENCHMARKS.md section (bench/run.py writes them)."""
    sys.path.insert(0, str(ROOT))
    info = machine()
    admin_url, env = prepare_environment()
    try:
        import django

        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # production storage needs its manifest
        cache.clear()
        print(f"seeding {STUDENTS:,} students …", flush=True)
        seeded = seed(timezone.now())
        version = connection.cursor().connection.info.server_version
        print(f"seeded {seeded['milestones']:,} milestones in {seeded['seed_s']:.1f} s; timing pages …", flush=True)
        pages = time_pages(seeded["advisor"])
        for name, t in pages.items():
            print(f"  {name}: p50 {t['p50']:.1f} ms, p95 {t['p95']:.1f} ms, CPU {t['cpu']:.1f} ms")
        print("gunicorn + wrk …", flush=True)
        served = time_gunicorn(env, seeded["advisor"])
        print(f"  trivial {served['trivial']:.0f}/s, cohort {served['cohort']:.0f}/s")
        return report(info, seeded, pages, served, f"{version // 10000}.{version % 10000}").splitlines()
    finally:
        drop(admin_url)
        shutil.rmtree(env["STATIC_ROOT"], ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit("run it as `bench/run.py cohort` (which writes its section of BENCHMARKS.md)")
