"""Reminders end to end: a real `celery worker` process on real Redis and PostgreSQL delivering to a
real SMTP server (aiosmtpd) on loopback. Each test counts what the SMTP server received by Message-ID.

The worker is a separate process, so everything it needs (the test database, a dedicated Redis
database, the SMTP port, short retry backoffs) is passed through its environment.
"""

from __future__ import annotations

import contextlib
import email.policy
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
import redis
from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from milestones import tasks
from milestones.models import ApplicantProfile, MatchCycle, Milestone, MilestoneTemplate, Reminder
from pathway.models import User

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT = 120  # seconds: every wait is bounded so a broken worker fails the test instead of hanging it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """aiosmtpd handler that records (Message-ID, recipient) for every message it accepts.

    `received` holds (Message-ID, recipient) pairs, `messages` the parsed messages, in arrival order.

    `pause_after(n)`: after n messages, hold every new transaction at RCPT until `resume()`, so a test
    can kill the worker while its processes are provably mid-SMTP and none is between "accepted"
    and "marked sent".

    `hold_replies_after(n)`: after n messages, accept each new message (it is recorded: the server has
    it) but hold the reply to the end of DATA until `resume()`. Killing the worker then kills it inside
    the acceptance window, the one no SMTP client can close (milestones/reminders/__init__.py).

    `slow_replies(every, seconds)`: the server accepts every `every`-th new message and answers the end
    of DATA `seconds` late, the first time only (a slow disk or content scanner).
    """

    def __init__(self):
        self.received: list[tuple[str, str]] = []
        self.messages: list = []
        self.lock = threading.Lock()
        self.pause_at: int | None = None
        self.held = 0
        self.hold_at: int | None = None
        self.in_window: set[str] = set()
        self.slow_every, self.slow_seconds, self.seen = 0, 0.0, []

    def pause_after(self, n: int) -> None:
        self.pause_at = n

    def hold_replies_after(self, n: int) -> None:
        self.hold_at = n

    def slow_replies(self, every: int, seconds: float) -> None:
        self.slow_every, self.slow_seconds = every, seconds

    def resume(self) -> None:
        self.pause_at = None
        self.hold_at = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        import asyncio

        if self.pause_at is not None and len(self.received) >= self.pause_at:
            with self.lock:
                self.held += 1
            while self.pause_at is not None:
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        message_id = message["Message-ID"]
        with self.lock:
            hold = self.hold_at is not None and len(self.received) >= self.hold_at
            first_time = message_id not in self.seen
            if first_time:
                self.seen.append(message_id)
            slow = bool(self.slow_every) and first_time and len(self.seen) % self.slow_every == 0
            for rcpt in envelope.rcpt_tos:
                self.received.append((message_id, rcpt))
                self.messages.append(message)
            if hold:
                self.in_window.add(message_id)
        if slow:
            await asyncio.sleep(self.slow_seconds)
        while hold and self.hold_at is not None:
            await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class SMTPServer:
    def __init__(self, port: int):
        self.port = port
        self.recorder = Recorder()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class Worker:
    """A `celery -A pathway worker` subprocess in its own process group (so SIGKILL takes it all)."""

    def __init__(self, env: dict, log: Path, pool: tuple[str, int] = ("prefork", 2)):
        self.env, self.log, self.proc, self.pool = env, log, None, pool

    def start(self):
        cmd = [
            str(Path(settings.BASE_DIR) / ".venv" / "bin" / "celery"),
            "-A", "pathway", "worker",
            f"--pool={self.pool[0]}", f"--concurrency={self.pool[1]}", "-Q", "default",
            "--without-heartbeat", "--without-mingle", "--without-gossip",
            "--loglevel=INFO", "-n", f"reminders-it-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]  # fmt: skip
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self):
        """SIGKILL the whole worker (parent and pool processes): a crash, not a shutdown."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        # Pool processes can outlive a terminated parent for a moment; make sure none is left.
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def tail(self, lines=40) -> str:
        return (
            "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""
        )


@pytest.fixture
def broker(redis_url):
    """REDIS_URL's database, flushed before and after, and a Celery client publishing to it.

    The database REDIS_URL names is the test run's own (CI gives the suite a server to itself; on a
    shared machine each engineer sets their own), so flushing it touches nobody else's broker.
    """
    parsed = urlparse(redis_url)
    db = parsed.path.strip("/") or "0"
    url = f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    app = Celery("reminder-tests", broker=url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    yield url, app, client
    app.close()
    client.flushdb()
    client.close()


@pytest.fixture
def worker_env(postgres, broker):
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pathway.settings",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker[0],
        "SMTP_TIMEOUT": "5",
        # Short, jittered backoff with many tries: an outage of seconds must not exhaust the retries.
        "REMINDER_RETRY_BACKOFF_SECONDS": "1",
        "REMINDER_RETRY_BACKOFF_MAX_SECONDS": "3",
        "REMINDER_MAX_RETRIES": "100",
    }
    return env


@pytest.fixture
def workers(worker_env):
    """Start workers with `start(smtp_port, pool)`; every one is stopped at the end, whatever happened."""
    started: list[Worker] = []
    log = Path(tempfile.mkstemp(prefix="reminder-worker-", suffix=".log")[1])

    def start(smtp_port: int, pool: tuple[str, int] = ("prefork", 2)) -> Worker:
        env = {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port)}
        worker = Worker(env, log, pool).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    log.unlink(missing_ok=True)


def publish(app: Celery, ids: list[int]) -> None:
    for pk in ids:
        app.send_task("milestones.tasks.send_reminder", args=[pk], queue="default")


def due_reminders(n: int, app: Celery, monkeypatch) -> list[int]:
    """n applicants with one milestone each whose 7-day reminder is due; planned by the real sweep."""
    monkeypatch.setattr(tasks, "enqueue", lambda ids, digests: publish(app, ids))
    cycle, _ = MatchCycle.objects.get_or_create(year=2027, defaults={"name": "2027 Match"})
    template = MilestoneTemplate.objects.create(
        key="rol",
        title="Certify your rank order list",
        phase="match",
        guidance="Certify it.",
        reminder_lead_days=[7],
    )
    users = User.objects.bulk_create(
        User(email=f"applicant{i}@example.com", password="!", name=f"Applicant {i}") for i in range(n)
    )
    ApplicantProfile.objects.bulk_create(
        ApplicantProfile(
            user=u, applicant_type="NON_US_IMG", graduation_date="2025-06-30", target_cycle=cycle,
            time_zone="UTC", calendar_token=f"token-{u.pk}",
        )
        for u in users
    )  # fmt: skip
    due = timezone.now() + timedelta(days=3)
    Milestone.objects.bulk_create(Milestone(applicant=u, template=template, due_at=due) for u in users)
    planned = tasks.plan_and_enqueue().planned  # commits, then publishes each id once
    assert len(planned) == n
    return planned


def wait_for(predicate, what: str, worker_logs=lambda: "", timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{worker_logs()}"
    )


def statuses() -> Counter:
    return Counter(Reminder.objects.values_list("status", flat=True))


def queue_drained(client: redis.Redis) -> bool:
    # Not "unacked": a killed worker's reserved messages stay there until Redis' visibility timeout.
    return client.llen("default") == 0


def assert_exactly_once(recorder: Recorder, ids: list[int]):
    expected = {f"<reminder-{pk}@pathway.localhost>" for pk in ids}
    counts = Counter(message_id for message_id, _ in recorder.received)
    assert set(counts) == expected, "missing or unexpected reminders"
    assert [mid for mid, n in counts.items() if n > 1] == [], "duplicates"
    assert len(recorder.received) == len(ids)
    assert len({rcpt for _, rcpt in recorder.received}) == len(ids)
    assert statuses() == Counter({Reminder.Status.SENT: len(ids)})


# Two pool processes, and one process with four threads (the production setting: sending is I/O-bound,
# and the per-row claim makes concurrent senders in one process as safe as in two).
POOLS = pytest.mark.parametrize("pool", [("prefork", 2), ("threads", 4)], ids=["prefork2", "threads4"])


@POOLS
def test_1000_reminders_enqueued_twice_arrive_exactly_1000_times(broker, workers, monkeypatch, pool):
    _, app, client = broker
    with SMTPServer(free_port()) as smtp:
        ids = due_reminders(1000, app, monkeypatch)
        publish(app, ids)  # the second enqueue of every id
        worker = workers(smtp.port, pool)

        wait_for(lambda: statuses()[Reminder.Status.SENT] == 1000, "1000 sent rows", worker.tail)
        wait_for(lambda: queue_drained(client), "the queue to drain", worker.tail)
        time.sleep(1)  # a late duplicate would land now

        assert_exactly_once(smtp.recorder, ids)


@POOLS
def test_a_worker_killed_mid_batch_and_restarted_delivers_every_reminder_exactly_once(
    broker, workers, monkeypatch, pool
):
    _, app, client = broker
    with SMTPServer(free_port()) as smtp:
        ids = due_reminders(600, app, monkeypatch)
        smtp.recorder.pause_after(200)
        worker = workers(smtp.port, pool)

        wait_for(lambda: smtp.recorder.count() >= 200, "200 messages before the crash", worker.tail)
        # At least two senders (pool processes or threads) are now stuck mid-SMTP.
        wait_for(lambda: smtp.recorder.held >= 2, "two senders mid-send", worker.tail, timeout=10)
        worker.kill()
        smtp.recorder.resume()
        assert statuses()[Reminder.Status.SENDING] >= 1  # claimed by the dead worker, never finished
        received_before = smtp.recorder.count()

        # The sweeper's job, with no grace period because the worker is known dead: stuck rows go back
        # to planned and every planned row is enqueued again (reserved messages died with the worker).
        tasks.requeue_and_enqueue(older_than=timedelta(0))
        worker = workers(smtp.port, pool)

        wait_for(lambda: statuses()[Reminder.Status.SENT] == 600, "600 sent rows", worker.tail)
        wait_for(lambda: queue_drained(client), "the queue to drain", worker.tail)
        time.sleep(1)

        assert 200 <= received_before < 600
        assert_exactly_once(smtp.recorder, ids)


def test_an_smtp_outage_delays_reminders_but_loses_or_doubles_none(broker, workers, monkeypatch):
    _, app, client = broker
    port = free_port()  # nothing listens here yet: connections are refused
    ids = due_reminders(200, app, monkeypatch)
    worker = workers(port)

    wait_for(
        lambda: Reminder.objects.filter(attempts__gte=2, status=Reminder.Status.PLANNED).count() >= 50,
        "failed attempts while SMTP is down",
        worker.tail,
    )
    assert Reminder.objects.filter(last_error__icontains="refused").exists()
    time.sleep(3)  # down for a while longer

    with SMTPServer(port) as smtp:
        wait_for(lambda: statuses()[Reminder.Status.SENT] == 200, "200 sent rows", worker.tail)
        wait_for(lambda: queue_drained(client), "the queue to drain", worker.tail)
        time.sleep(1)

        assert_exactly_once(smtp.recorder, ids)
    assert Reminder.objects.filter(attempts__gte=2).count() >= 50
