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
import functools
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
    """smtplib.SMTP with a longer socket timeout for the reply to the end of DATA, and only for that, and
    a limit on one email's whole exchange (`whole_timeout`).

    Socket timeouts bound each wait, not a server that trickles a byte now and then; under the prefork
    pool the task's time limit ends such a send, but the thread pool the worker runs ignores time limits,
    and a thread still sending when the sweeper takes the row back would send the email twice. So every
    read and write waits at most what is left of the whole limit, and replies are read through
    `_ReplyLines`, which looks at the clock between the bytes of a line.
    """

    data_timeout: float | None = None
    _in_data = False
    _awaiting_data_reply = False
    _deadline: float | None = None

    def __init__(self, *args, whole_timeout: float | None = None, **kwargs):
        self.whole_timeout = whole_timeout
        self._start_clock()  # the constructor connects and reads the greeting
        super().__init__(*args, **kwargs)

    def _start_clock(self) -> None:
        self._deadline = monotonic() + self.whole_timeout if self.whole_timeout else None

    def sendmail(self, *args, **kwargs):
        self._start_clock()  # one email's exchange, also on a connection reused from an earlier one
        try:
            return super().sendmail(*args, **kwargs)
        finally:
            self._deadline = None  # QUIT or RSET later on this connection waits only its own timeout

    def data(self, msg):
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = self._awaiting_data_reply = False

    def send(self, s):
        self.limit_wait()
        super().send(s)
        # Inside data(), the payload ending in <CRLF>.<CRLF> is the end of the message: what follows is
        # the reply the server sends once it has stored it.
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self._awaiting_data_reply = True

    def getreply(self):
        if not isinstance(self.file, _ReplyLines):  # none yet, or dropped by STARTTLS or close()
            self.file = _ReplyLines(self)
        return super().getreply()

    def limit_wait(self) -> None:
        """Set the socket's timeout for the next read or write: this phase's, cut to what is left of the
        email's whole limit; past that limit, a TimeoutError (an OSError: smtplib reports it as the
        server having disconnected, which the send task retries)."""
        if self.sock is None:
            return
        wait = self.data_timeout if self._awaiting_data_reply and self.data_timeout else self.timeout
        if not isinstance(wait, int | float):  # smtplib's "the global default": no timeout of ours
            wait = None
        if self._deadline is not None:
            left = self._deadline - monotonic()
            if left <= 0:
                raise TimeoutError(f"one email's SMTP exchange went past its limit of {self.whole_timeout:g} s")
            wait = left if wait is None else min(wait, left)
        self.sock.settimeout(wait)


class _ReplyLines:
    """The reply reader smtplib's getreply() uses (`readline`, `close`), reading the socket itself so that
    the whole limit is checked before every read, not only when a line is complete."""

    def __init__(self, smtp: _DataReplyTimeout):
        self.smtp = smtp
        self.buffer = b""

    def readline(self, limit: int = -1) -> bytes:
        while b"\n" not in self.buffer and (limit < 0 or len(self.buffer) < limit):
            self.smtp.limit_wait()
            try:
                chunk = self.smtp.sock.recv(4096)
            except TimeoutError:
                self.smtp.limit_wait()  # says so when the whole limit, not this phase's timeout, ran out
                raise
            if not chunk:
                break
            self.buffer += chunk
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        if limit >= 0:
            end = min(end, limit)
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def close(self) -> None:
        self.buffer = b""


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
        return functools.partial(_SMTP_SSL if self.use_ssl else _SMTP, whole_timeout=self.whole_timeout)

    @property
    def whole_timeout(self) -> float | None:
        """One email's whole exchange: every command phase and the reply to the end of DATA at their
        timeouts (send_time_limits adds its margin on top of the same sum)."""
        if not isinstance(self.timeout, int | float):
            return None
        return COMMAND_PHASES * self.timeout + (self.data_timeout or self.timeout)

    def open(self):
        opened = super().open()
        if self.connection is not None:
            self.connection.data_timeout = self.data_timeout
        return opened
