"""Pages for everyone: the front door that sends each role to its own face, and the health check."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


@require_GET
def home(request):
    """The front door: each role lands on its own page."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "pathway/landing.html")
    if user.is_advisor:
        return redirect("advisor:student_list")
    if user.is_admin:
        return render(request, "pathway/admin_home.html")
    return redirect("applicant:dashboard")


@never_cache
@require_GET
def healthz(request):
    """Database and broker state for load balancers and `make run`: 200 when both answer, else 503."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message goes to the log, not the client
        log.warning("health check: database down: %s", exc)
        return "error"
    return "ok"


def _check_broker() -> str:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        log.warning("health check: broker down: %s", exc)
        return "error"
    return "ok"
