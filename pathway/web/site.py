"""Pages for everyone: the front door that sends each role to its own face, the health check, the 404."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

log = logging.getLogger(__name__)


@require_GET
def home(request):
    """The front door: each role lands on its own page."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "pathway/landing.html")
    if user.is_advisor:
        return redirect("advisor:cohort")
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


def not_found(request, exception):
    """The site's 404 page, except under /api/: a script there gets JSON, as from the API's own 404s.

    That covers paths the API does not have (a typo, /api/v2/...) and its bare root, which django-ninja
    answers by raising Http404 outside its own error handling.
    """
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not Found"}, status=404)
    return page_not_found(request, exception)
