"""An advisor's read-only copy of a student's season list (My programs), in the third person: the
programs, their status and interview, signals and letters; the student's notes only when they share them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from pathway.access import get_student_for
from programs.season.models import Application


@login_required
@require_GET
def student_programs(request, pk: int):
    student, shared = get_student_for(request.user, pk)
    if student == request.user:
        return redirect("applicant:season_programs")
    profile = getattr(student, "profile", None)
    if profile is None:
        return redirect("advisor:student_detail", pk=student.pk)
    applications = list(
        Application.objects.for_list().of(student, profile.target_cycle_id).order_by("program__name", "pk")
    )
    context = {"student": student, "profile": profile, "applications": applications, "shared": shared}
    return render(request, "advisor/student_programs.html", context)
