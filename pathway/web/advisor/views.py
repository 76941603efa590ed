"""The advisor's former list of students, now the cohort (`cohort.py`). One student's pages are in
`student.py`, invitations in `invitations.py`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from pathway.access import role_required
from pathway.models import User


@login_required
@role_required(User.Role.ADVISOR, User.Role.ADMIN)
@require_GET
def student_list(request):
    """Old links and bookmarks land on the cohort, which replaced this list."""
    return redirect("advisor:cohort")
