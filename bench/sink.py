"""The benchmark's SMTP sink: an aiosmtpd handler that accepts every message and appends its Message-ID
to a file, one a line, so the benchmark can check that nothing arrived twice or went missing.

Run as `python -m aiosmtpd -n -c sink.MessageIdLog <file> -l 127.0.0.1:<port>` with bench/ on
PYTHONPATH. The line is flushed (not fsynced): the benchmark reads it from the same machine.
"""

from __future__ import annotations

import re

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.I | re.M)


class MessageIdLog:
    def __init__(self, path: str):
        self.file = open(path, "ab", buffering=0)  # noqa: SIM115 - open for the sink's lifetime

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("MessageIdLog takes one argument: the file to append Message-IDs to")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        match = MESSAGE_ID.search(head)
        self.file.write((match.group(1) if match else b"-") + b"\n")
        return "250 OK"
