"""Stuck sends: the worker runs `--pool=threads`, and Celery's thread pool enforces no task time limits,
so nothing but the SMTP socket timeouts ends a send to a server that has gone quiet, and nothing but the
sweeper brings back a row whose thread died or hung after claiming it.

For each kind of email the sweeper covers (a reminder, a daily digest, an advisor's comment), against
real servers on loopback and real PostgreSQL:

- a server that accepts the connection and never answers (a plain socket server) fails the send within
  the configured timeout, and the row goes back to "planned" for the task's retry: not lost, not sent;
- a row left "sending" longer than the stuck delay is returned to the queue by the sweeper and then
  delivered exactly once (one message at the aiosmtpd server, with the Message-ID of its first claim);
- a row claimed recently is left alone by the sweeper while its slow send finishes: no second copy.

Existing neighbours: test_reminder_smtp.py (a stall at RCPT times out; a slow DATA reply is awaited),
test_reminders.py (the sweeper's delay for a reminder, on the in-memory backend), test_reminder_faults.py
(a killed worker process, swept with no delay).
"""

from __future__ import annotations

import asyncio
import email.policy
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from milestones import reminders, tasks
from milestones.models import DigestDelivery, MilestoneComment, Reminder
from milestones.reminders.delivery import claim
from milestones.services import add_comment
from pathway.models import AdvisorAssignment, User

from . import test_reminder_integration as harness
from . import test_reminders as base

pytestmark = pytest.mark.django_db

Status = Reminder.Status
# 09:05 in New York (the 7-day reminder of a 20 March deadline is due) and 16:05 in Cairo (that day's
# digest hour has passed).
NOW = datetime(2027, 3, 13, 14, 5, tzinfo=UTC)
DEADLINE = base.at("2027-03-20 12:00", "America/New_York")
TIMEOUT = 0.5  # seconds: SMTP_TIMEOUT of these tests (production: 10)
# How long the silent server keeps a connection before hanging up: far longer than TIMEOUT, so a client
# without a timeout fails the time assertion instead of hanging the test run.
SILENCE = 5.0
TRICKLE = 0.05  # seconds between the bytes of a trickling server: well under any timeout used here


# --- The three kinds of email the sweeper covers ------------------------------------------------------


def due_reminder() -> int:
    user = base.make_applicant()
    base.make_milestone(user, DEADLINE, lead_days=(7,))
    with time_machine.travel(NOW, tick=False):
        (pk,) = reminders.plan_due_reminders().enqueued
    return pk


def due_digest() -> int:
    user = base.make_applicant("dina@example.com", tz="Africa/Cairo", digest=True)
    base.make_milestone(user, DEADLINE, lead_days=(7,))
    with time_machine.travel(NOW, tick=False):
        (pk,) = reminders.plan_due_reminders().digests
    return pk


def comment_to_send() -> int:
    student = base.make_applicant("sara@example.com")
    milestone = base.make_milestone(student, DEADLINE)
    advisor = User.objects.create_user("ada@example.com", name="Ada Advisor", role="advisor")
    AdvisorAssignment.objects.create(advisor=advisor, applicant=student, accepted_at=NOW)
    with time_machine.travel(NOW, tick=False):
        return add_comment(milestone=milestone, author=advisor, body="Book it.").pk


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    make: object  # () -> the id of a planned row whose moment has come
    deliver: object  # (pk) -> "sent", "skipped", ... as the send task calls it
    requeued: str  # the field of reminders.Requeued listing this kind's ids

    def status(self, pk: int) -> str:
        return self.model.objects.get(pk=pk).status


KINDS = [
    Kind("reminder", Reminder, due_reminder, lambda pk: reminders.deliver_reminder(reminder_id=pk), "reminder_ids"),
    Kind("digest", DigestDelivery, due_digest, lambda pk: reminders.deliver_digest(digest_id=pk), "digest_ids"),
    Kind("comment", MilestoneComment, comment_to_send, lambda pk: reminders.deliver_comment(comment_id=pk), "comment_ids"),
]  # fmt: skip


@pytest.fixture(params=KINDS, ids=lambda kind: kind.name)
def kind(request) -> Kind:
    return request.param


# --- Servers ------------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping every message it accepts; optionally holds the reply to the end of DATA
    until `release` is set (a slow server: the message is stored, the reply not yet sent)."""

    def __init__(self, *, hold_data: bool = False):
        self.messages: list = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        if not hold_data:
            self.release.set()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(envelope.content))
        self.arrived.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp_server():
    """start(handler) -> port of a real SMTP server (aiosmtpd) on loopback."""
    controllers = []

    def start(handler) -> int:
        controller = Controller(handler, hostname="127.0.0.1", port=harness.free_port())
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def silent_server():
    """start(greeting) -> port of a plain socket server that accepts every connection, sends `greeting`
    (or nothing) and then never says anything, until it hangs up after SILENCE seconds; with
    trickle=True it sends a byte every TRICKLE seconds instead, a reply line that never ends."""
    stop = threading.Event()
    listeners = []

    def hold(conn: socket.socket, greeting: bytes, trickle: bool) -> None:
        with conn:
            if greeting:
                conn.sendall(greeting)
            if not trickle:
                stop.wait(SILENCE)
                return
            # One byte of a never-ending reply line every TRICKLE seconds: each read gets something well
            # within the socket timeout, so only a limit on the whole exchange ends it.
            ends = time.monotonic() + 3 * SILENCE
            while time.monotonic() < ends and not stop.wait(TRICKLE):
                try:
                    conn.sendall(b"x")
                except OSError:  # the client gave up
                    return

    def serve(listener: socket.socket, greeting: bytes, trickle: bool) -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:  # closed at teardown
                return
            threading.Thread(target=hold, args=(conn, greeting, trickle), daemon=True).start()

    def start(greeting: bytes = b"", *, trickle: bool = False) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        threading.Thread(target=serve, args=(listener, greeting, trickle), daemon=True).start()
        return listener.getsockname()[1]

    yield start
    stop.set()
    for listener in listeners:
        listener.close()


def use_smtp(settings, port: int, *, timeout: float = TIMEOUT, data_timeout: float = 2) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "milestones.reminders.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": timeout, "data_timeout": data_timeout},
        }
    }


@pytest.fixture
def sweep(monkeypatch, django_capture_on_commit_callbacks):
    """One beat tick's sweep (`tasks.requeue_and_enqueue`); returns the ids it handed to the broker,
    after commit, as {"reminder_ids": [...], "digest_ids": [...], "comment_ids": [...]}."""
    enqueued: dict[str, list[int]] = {}

    def record(reminder_ids, digest_ids):
        enqueued["reminder_ids"] = list(reminder_ids)
        enqueued["digest_ids"] = list(digest_ids)

    monkeypatch.setattr(tasks, "enqueue", record)
    monkeypatch.setattr(tasks, "enqueue_comment_emails", lambda ids: enqueued.update(comment_ids=list(ids)))

    def run() -> dict[str, list[int]]:
        enqueued.clear()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.requeue_and_enqueue()
        return dict(enqueued)

    return run


# --- (a) A server that accepts and never answers ------------------------------------------------------


@pytest.mark.parametrize(
    "greeting", [b"", b"220 mx.example ESMTP\r\n"], ids=["silent-after-accept", "silent-after-greeting"]
)
def test_a_server_that_never_answers_fails_the_send_within_the_timeout_and_the_row_waits_for_its_retry(
    kind, settings, silent_server, smtp_server, greeting
):
    pk = kind.make()
    use_smtp(settings, silent_server(greeting))

    started = time.monotonic()
    with time_machine.travel(NOW, tick=True), pytest.raises(smtplib.SMTPServerDisconnected) as failure:
        kind.deliver(pk)
    elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT + 1, f"the send hung {elapsed:.1f} s"
    assert isinstance(failure.value, tasks.TRANSIENT_MAIL_ERRORS)  # the send task retries it
    row = kind.model.objects.get(pk=pk)
    assert (row.status, row.sent_at, row.attempts) == (Status.PLANNED, None, 1)
    assert "timed out" in row.last_error
    first_message_id = row.message_id

    # Not lost: the retry, once a working server answers, delivers it once, under the same Message-ID.
    inbox = Inbox()
    use_smtp(settings, smtp_server(inbox))
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):
        assert kind.deliver(pk) == "sent"
        assert kind.deliver(pk) == "skipped"
    assert inbox.message_ids() == [first_message_id]


def test_a_server_that_trickles_its_reply_fails_the_send_within_one_emails_whole_limit(
    kind, settings, silent_server
):
    """A server sending a byte every TRICKLE seconds beats every socket timeout, and under the thread pool
    no task time limit would end the send: one email's whole exchange has a limit of its own
    (COMMAND_PHASES command timeouts and the DATA timeout), so the thread comes back, the row is planned
    for the retry, and the sweeper never finds a send that is still running."""
    pk = kind.make()
    timeout, data_timeout = 0.3, 0.5
    use_smtp(settings, silent_server(b"220-mx.example ESMTP ", trickle=True), timeout=timeout, data_timeout=data_timeout)
    whole = reminders.smtp.COMMAND_PHASES * timeout + data_timeout

    started = time.monotonic()
    with time_machine.travel(NOW, tick=True), pytest.raises(smtplib.SMTPServerDisconnected) as failure:
        kind.deliver(pk)
    elapsed = time.monotonic() - started

    assert whole - 0.2 < elapsed < whole + 1, f"the send took {elapsed:.1f} s (its limit: {whole:.1f} s)"
    assert isinstance(failure.value, tasks.TRANSIENT_MAIL_ERRORS)
    row = kind.model.objects.get(pk=pk)
    assert (row.status, row.sent_at, row.attempts) == (Status.PLANNED, None, 1)
    assert "limit" in row.last_error


def test_a_batch_hands_a_reminder_that_timed_out_to_the_retrying_task(settings, silent_server, monkeypatch):
    """Reminders go to the broker in batches (`send_reminders`); a timeout there must not lose the row
    either: it goes to `send_reminder`, whose retries and failure marking take over."""
    pk = due_reminder()
    retried = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda args, **options: retried.append(args[0]))
    use_smtp(settings, silent_server())

    started = time.monotonic()
    with time_machine.travel(NOW, tick=True):
        outcomes = tasks.send_reminders([pk])

    assert time.monotonic() - started < TIMEOUT + 1
    assert outcomes["retrying"] == 1 and outcomes["sent"] == 0
    assert retried == [pk]
    assert Reminder.objects.get(pk=pk).status == Status.PLANNED


def test_no_reply_to_the_end_of_data_fails_after_the_data_timeout_and_the_repeat_keeps_the_message_id(
    kind, settings, smtp_server
):
    """The one window no SMTP client can close: the server stored the message and never replied. The
    send still ends (after SMTP_DATA_TIMEOUT), the row is not marked sent, and the copy the retry sends
    carries the same Message-ID, so mail clients show one."""
    pk = kind.make()
    silent = Inbox(hold_data=True)
    use_smtp(settings, smtp_server(silent), data_timeout=1)

    started = time.monotonic()
    with time_machine.travel(NOW, tick=True), pytest.raises(smtplib.SMTPServerDisconnected):
        kind.deliver(pk)
    silent.release.set()

    assert time.monotonic() - started < 2
    row = kind.model.objects.get(pk=pk)
    assert (row.status, row.sent_at) == (Status.PLANNED, None)
    inbox = Inbox()
    use_smtp(settings, smtp_server(inbox))
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):
        assert kind.deliver(pk) == "sent"
    assert silent.message_ids() == inbox.message_ids() == [row.message_id]


# --- (b), (c) Rows left claimed -----------------------------------------------------------------------


def test_a_row_left_claimed_past_the_stuck_delay_is_requeued_and_delivered_exactly_once(
    kind, settings, smtp_server, sweep
):
    pk = kind.make()
    # A worker thread claimed the row and then died or hung: it stays "sending", its attempt and
    # Message-ID recorded.
    with time_machine.travel(NOW, tick=False):
        assert claim(kind.model, pk, timezone.now())
    message_id = kind.model.objects.get(pk=pk).message_id
    inbox = Inbox()
    use_smtp(settings, smtp_server(inbox))

    with time_machine.travel(NOW + reminders.stuck_after() - timedelta(seconds=1), tick=False):
        assert sweep().get(kind.requeued) == []
    assert kind.status(pk) == Status.SENDING

    with time_machine.travel(NOW + reminders.stuck_after() + timedelta(seconds=1), tick=True):
        requeued = sweep()[kind.requeued]
        assert requeued == [pk] and kind.status(pk) == Status.PLANNED
        assert [kind.deliver(requeued_pk) for requeued_pk in requeued] == ["sent"]
        assert kind.deliver(pk) == "skipped"  # the broker handing the message out again changes nothing
        assert sweep().get(kind.requeued) == []  # a sent row stays sent

    assert inbox.message_ids() == [message_id]
    row = kind.model.objects.get(pk=pk)
    assert (row.status, row.attempts) == (Status.SENT, 2)


@pytest.mark.django_db(transaction=True)
def test_a_row_claimed_recently_is_left_to_its_slow_send_and_sent_once(kind, settings, smtp_server, sweep):
    """A worker thread is inside a slow send (the server has the message and takes its time to reply)
    when beat sweeps: the sweeper must not hand the row out again, or a second copy would follow."""
    pk = kind.make()
    slow = Inbox(hold_data=True)
    use_smtp(settings, smtp_server(slow), data_timeout=2)
    outcome: list[str] = []

    def worker_thread():
        try:
            outcome.append(kind.deliver(pk))
        finally:
            connection.close()

    with time_machine.travel(NOW, tick=True):
        thread = threading.Thread(target=worker_thread)
        thread.start()
        assert slow.arrived.wait(2), "the worker never reached the end of DATA"
        assert kind.status(pk) == Status.SENDING

        assert sweep().get(kind.requeued) == []
        assert kind.status(pk) == Status.SENDING

        slow.release.set()
        thread.join(timeout=3)
        assert not thread.is_alive() and outcome == ["sent"]

    with time_machine.travel(NOW + reminders.stuck_after() + timedelta(minutes=1), tick=False):
        assert sweep().get(kind.requeued) == []
    assert len(slow.messages) == 1 and kind.status(pk) == Status.SENT
