"""Secrets in URLs stay out of the logs: the calendar feed (/calendar/<token>.ics) and the unsubscribe link
(/reminders/unsubscribe/<token>/) carry their credential in the path, which access logs write down."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import reverse

from pathway.lib.logs import mask_secret_paths

ROOT = Path(__file__).resolve().parents[2]
CALENDAR_TOKEN = "Zm9vYmFyCalendarSecret_123-xyz"
UNSUBSCRIBE_TOKEN = "eyJ1Ijo0Mn0:1tUnsub:SignedSecretPart-abc_DEF"


def calendar_path(token: str = CALENDAR_TOKEN) -> str:
    return reverse("applicant:calendar_feed", args=[token])


def unsubscribe_path(token: str = UNSUBSCRIBE_TOKEN) -> str:
    return reverse("applicant:reminder_unsubscribe", args=[token])


def test_it_masks_the_token_of_both_urls_and_keeps_the_rest():
    line = f'"GET {calendar_path()} HTTP/1.1" 200 "https://x.org{unsubscribe_path()}" /dashboard/'

    masked = mask_secret_paths(line)

    assert CALENDAR_TOKEN not in masked and UNSUBSCRIBE_TOKEN not in masked
    assert (
        masked
        == '"GET /calendar/[secret] HTTP/1.1" 200 "https://x.org/reminders/unsubscribe/[secret]/" /dashboard/'
    )


def written_by(logger_name: str):
    """A fixture: what the console handlers of that logger, as settings.LOGGING made them, write."""

    @pytest.fixture
    def fixture():
        handlers = [h for h in logging.getLogger(logger_name).handlers if type(h) is logging.StreamHandler]
        assert handlers
        stream = io.StringIO()
        previous = [handler.setStream(stream) for handler in handlers]
        yield stream
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)

    return fixture


runserver_log = written_by("django.server")
console_log = written_by("root")


def test_runserver_does_not_log_the_tokens(runserver_log):
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)  # just enough of one to log a request
    handler.request = None
    for path in (calendar_path(), unsubscribe_path()):
        handler.requestline = f"GET {path} HTTP/1.1"
        handler.log_request(200, 1234)

    logged = runserver_log.getvalue()
    assert logged.count('"GET /calendar/[secret] HTTP/1.1" 200 1234') == 1
    assert logged.count('"GET /reminders/unsubscribe/[secret]/ HTTP/1.1" 200 1234') == 1
    assert CALENDAR_TOKEN not in logged and UNSUBSCRIBE_TOKEN not in logged


@pytest.mark.django_db
def test_djangos_warnings_about_a_request_do_not_name_its_token(console_log):
    # A replaced calendar address or a forged unsubscribe link answers 404, a POST without CSRF 403:
    # Django logs each with its path (django.request, django.security.csrf).
    assert Client().get(calendar_path()).status_code == 404
    assert Client().get(unsubscribe_path()).status_code == 404  # a forged token
    assert Client(enforce_csrf_checks=True).post(calendar_path()).status_code == 403

    logged = console_log.getvalue()
    assert "WARNING django.request Not Found: /calendar/[secret]\n" in logged
    assert "WARNING django.request Not Found: /reminders/unsubscribe/[secret]/\n" in logged
    assert "WARNING django.security.csrf Forbidden (CSRF cookie not set.): /calendar/[secret]\n" in logged
    assert CALENDAR_TOKEN not in logged and UNSUBSCRIBE_TOKEN not in logged


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, **kwargs) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, **kwargs), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def answers(url: str) -> bool:
    try:
        return request(url) == 200
    except OSError:  # not listening yet
        return False


def serve_with_gunicorn(tmp_path, visit) -> str:
    """Start gunicorn with the project's config module (as the image does), call `visit(base_url)`,
    stop it, and return everything it wrote."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:pathway.gunicorn_conf", "pathway.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env={**os.environ, "VAR_DIR": str(tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and not answers(f"{base}/healthz"):
            time.sleep(0.2)
        assert proc.poll() is None, "gunicorn did not start:\n" + proc.communicate()[0]
        visit(base)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    return output


def test_gunicorn_does_not_log_the_tokens(tmp_path):
    def visit(base):
        # No database is needed for these answers: a forged unsubscribe token is a 404 before any
        # query, and a POST without a CSRF token is refused before the feed looks at its token.
        referer = {"Referer": f"{base}{unsubscribe_path()}"}
        assert request(f"{base}{unsubscribe_path()}", headers=referer) == 404
        assert request(f"{base}{calendar_path()}", method="POST") == 403  # no CSRF token

    output = serve_with_gunicorn(tmp_path, visit)

    assert '"GET /reminders/unsubscribe/[secret]/ HTTP/1.1" 404' in output
    assert '"POST /calendar/[secret] HTTP/1.1" 403' in output
    assert "/reminders/unsubscribe/[secret]/" in output.split('" 404', 1)[1]  # the referer
    assert CALENDAR_TOKEN not in output and UNSUBSCRIBE_TOKEN not in output


def test_the_image_and_compose_start_gunicorn_with_the_config_module():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = " ".join(compose["services"]["web"]["command"])
    assert "gunicorn -c python:pathway.gunicorn_conf pathway.wsgi" in web
    assert (
        '"gunicorn", "-c", "python:pathway.gunicorn_conf", "pathway.wsgi"'
        in (ROOT / "Dockerfile").read_text()
    )
