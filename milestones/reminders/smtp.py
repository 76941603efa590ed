"""The mail connection reminders and digests are sent through, reused between tasks in one process."""

from __future__ import annotations

import contextlib
import logging
import threading
from time import monotonic

from django.conf import settings
from django.core.mail import mailers

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
