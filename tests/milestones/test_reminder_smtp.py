"""The SMTP side of "not repeated where that can be avoided": each SMTP phase has its own timeout, the
reply to the end of DATA is awaited longer, and every attempt at a row carries the Message-ID recorded
before the first one. Against a real SMTP server (aiosmtpd) on loopback, in this process."""

from __future__ import annotations

import asyncio
import email.policy
import smtplib
import time
from datetime import UTC, datetime
from email.parser import BytesParser

import pytest
import time_machine
from aiosmtpd.controller import Controller

from milestones import reminders
from milestones.models import Reminder
from milestones.tasks import send_reminder

from . import test_reminder_integration as harness
from . import test_reminders as base

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 13, 14, 5, tzinfo=UTC)  # 09:05 in New York: the 7-day reminder is due


class Slow:
    """An SMTP server that stalls `seconds` in one phase ("RCPT" or "DATA", the latter after it has the
    whole message), a given number of times, then answers at once."""

    def __init__(self, phase: str, seconds: float, times: int = 1):
        self.phase, self.seconds, self.times = phase, seconds, times
        self.messages: list = []

    async def _stall(self, phase: str):
        if self.phase == phase and self.times > 0:
            self.times -= 1
            await asyncio.sleep(self.seconds)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._stall("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(envelope.content))
        await self._stall("DATA")
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    servers = []

    def start(handler) -> int:
        port = harness.free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return port

    yield start
    for controller in servers:
        controller.stop()


def use_smtp(settings, port: int, *, timeout: float, data_timeout: float) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "milestones.reminders.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": timeout, "data_timeout": data_timeout},
        }
    }


@pytest.fixture
def due_row():
    user = base.make_applicant()
    base.make_milestone(user, base.at("2027-03-20 21:00", "America/New_York"), lead_days=(7,))
    with time_machine.travel(NOW, tick=False):
        (pk,) = reminders.plan_due_reminders().enqueued
    return pk


def test_a_slow_reply_to_the_end_of_data_is_awaited_and_the_reminder_sent_once(
    settings, smtp_server, due_row
):
    server = Slow("DATA", seconds=1.5)
    use_smtp(settings, smtp_server(server), timeout=0.5, data_timeout=10)

    with time_machine.travel(NOW, tick=True):
        assert reminders.deliver_reminder(reminder_id=due_row) == "sent"

    assert len(server.messages) == 1
    assert Reminder.objects.get(pk=due_row).attempts == 1


def test_a_server_that_stalls_on_a_command_still_times_out_after_the_short_timeout(
    settings, smtp_server, due_row
):
    # Before the end of DATA the server has nothing: failing fast and trying again duplicates nothing.
    use_smtp(settings, smtp_server(Slow("RCPT", seconds=3)), timeout=0.5, data_timeout=10)

    started = time.monotonic()
    with time_machine.travel(NOW, tick=True), pytest.raises(smtplib.SMTPServerDisconnected):
        reminders.deliver_reminder(reminder_id=due_row)

    assert time.monotonic() - started < 2.5
    assert Reminder.objects.get(pk=due_row).status == Reminder.Status.PLANNED  # back for the retry


def test_the_data_timeout_is_for_that_reply_only_and_the_connection_is_reused_after_it(settings, smtp_server):
    """Two reminders over one reused connection: the long wait of the first one's end of DATA does not
    stay on the socket for the next one's commands."""
    server = Slow("RCPT", seconds=2, times=0)
    use_smtp(settings, smtp_server(server), timeout=0.5, data_timeout=10)
    user = base.make_applicant()
    for key in ("a", "b"):
        base.make_milestone(user, base.at("2027-03-20 21:00", "America/New_York"), key=key, lead_days=(7,))
    with time_machine.travel(NOW, tick=False):
        first, second = reminders.plan_due_reminders().enqueued

    with time_machine.travel(NOW, tick=True):
        assert reminders.deliver_reminder(reminder_id=first) == "sent"
        server.times = 1
        started = time.monotonic()
        with pytest.raises(smtplib.SMTPServerDisconnected):
            reminders.deliver_reminder(reminder_id=second)
    assert time.monotonic() - started < 2


def test_every_attempt_at_a_row_carries_the_message_id_recorded_before_the_first(
    due_row, monkeypatch, settings
):
    """The Message-ID is recorded when the row is claimed, before anything is sent, and a later attempt
    (Celery's retry after an error) sends the same one, even if the sender's domain changed meanwhile."""
    from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

    original = LocmemBackend.send_messages
    seen: list[str] = []

    def fail_once_after_recording(self, messages):
        seen.append(Reminder.objects.get(pk=due_row).message_id)
        if len(seen) == 1:
            settings.DEFAULT_FROM_EMAIL = "Pathway <noreply@elsewhere.example>"
            raise smtplib.SMTPServerDisconnected("lost the reply")
        return original(self, messages)

    monkeypatch.setattr(LocmemBackend, "send_messages", fail_once_after_recording)
    with time_machine.travel(NOW, tick=False):
        assert send_reminder.apply(args=[due_row]).successful()

    from django.core import mail

    assert seen == [f"<reminder-{due_row}@pathway.localhost>"] * 2
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [seen[0]]
