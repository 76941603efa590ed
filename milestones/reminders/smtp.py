"""The mail connection reminders and digests are sent through, reused between tasks in one process,
and the SMTP backend that waits longer for the reply to the end of DATA than for anything else.

Why the phases differ: a timeout while connecting or on a command reply means the server does not have
the message, and trying again is safe. A timeout while waiting for the reply to the end of DATA may come
after the server stored the message (a slow disk, a content scanner), and trying again then sends it
twice. So that one wait is long (SMTP_DATA_TIMEOUT, RFC 5321 4.5.3.2.6) and the others short
(SMTP_TIMEOUT).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
from time import monotonic

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends import smtp as django_smtp

log = logging.getLogger(__name__)

_shared = threading.local()
# Servers hang up on idle clients (RFC 5321 asks them to wait 5 minutes; some wait less).
SMTP_REUSE_IDLE_SECONDS = 30.0


@contextlib.contextmanager
def connection(mailer=None):
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


# Connect, EHLO, STARTTLS and EHLO again, AUTH, MAIL, RCPT, DATA and the message itself: each may use up
# the command timeout before the reply to the end of DATA is awaited (more recipients are not used here).
COMMAND_PHASES = 9
# Rendering, the database round trips of claim and mark, and Celery's own bookkeeping.
TASK_MARGIN_SECONDS = 30


def send_time_limits() -> tuple[int, int]:
    """The send task's (soft, hard) time limits in seconds: longer than the longest SMTP exchange the
    timeouts allow, so a socket timeout (which says which phase failed) always comes first, and a soft
    limit never interrupts a wait for the reply to the end of DATA."""
    command = getattr(settings, "SMTP_TIMEOUT", 10)
    data = getattr(settings, "SMTP_DATA_TIMEOUT", 300)
    soft = COMMAND_PHASES * command + data + TASK_MARGIN_SECONDS
    return soft, soft + TASK_MARGIN_SECONDS


class _DataReplyTimeout:
    """smtplib.SMTP with a longer socket timeout for the reply to the end of DATA, and only for that."""

    data_timeout: float | None = None
    _in_data = False

    def data(self, msg):
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False
            if self.sock is not None:
                self.sock.settimeout(self.timeout)

    def send(self, s):
        super().send(s)
        # Inside data(), the payload ending in <CRLF>.<CRLF> is the end of the message: what follows is
        # the reply the server sends once it has stored it.
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n") and self.sock is not None:
            self.sock.settimeout(self.data_timeout or self.timeout)


class _SMTP(_DataReplyTimeout, smtplib.SMTP):
    pass


class _SMTP_SSL(_DataReplyTimeout, smtplib.SMTP_SSL):
    pass


class EmailBackend(django_smtp.EmailBackend):
    """Django's SMTP backend with one more option, `data_timeout`: how long to wait for the reply to the
    end of DATA (`timeout` covers connecting and every other reply)."""

    def __init__(self, *args, data_timeout: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_timeout = data_timeout

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP

    def open(self):
        opened = super().open()
        if self.connection is not None:
            self.connection.data_timeout = self.data_timeout
        return opened
