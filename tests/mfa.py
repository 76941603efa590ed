"""TOTP codes as an authenticator app computes them (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits).

Written out here rather than borrowed from allauth, so the tests check allauth's codes against an
independent implementation of the standard.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

PERIOD = 30
DIGITS = 6
# Seconds a code must have left before we send it: the server accepts only the current step.
MARGIN = 5


def totp_code(secret: str, *, at: float | None = None) -> str:
    counter = int((time.time() if at is None else at) // PERIOD)
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def fresh_totp_code(secret: str, *, not_: str | None = None) -> str:
    """The current code, waiting for the next step when this one is about to expire or equals `not_`
    (a code already used: the server refuses a code twice, as it should)."""
    while True:
        left = PERIOD - time.time() % PERIOD
        if left < MARGIN:
            time.sleep(left + 0.1)
            continue
        code = totp_code(secret)
        if code != not_:
            return code
        time.sleep(left + 0.1)
