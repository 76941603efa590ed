"""The advisor's list of students. One student's pages are in `student.py`, invitations in `invitations.py`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pathway.access import role_required
from pathway.models import User


@login_required
@role_required(User.Role.ADVISOR, User.Role.ADMIN)
@require_GET
def student_list(request):
    students = User.objects.applicants_visible_to(request.user).select_related("profile__target_cycle")
    return render(request, "advisor/student_list.html", {"students": students})
