"""The advisor's pages: their students, and a read-only copy of each student's dashboard and milestones."""

from __future__ import annotations

import zlib

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from milestones.versions import page_state
from pathway.access import get_applicant_for, get_milestone_for, role_required
from pathway.models import User
from pathway.web.applicant.dashboard import dashboard_content, milestone_context


@login_required
@role_required(User.Role.ADVISOR, User.Role.ADMIN)
@require_GET
def student_list(request):
    students = User.objects.applicants_visible_to(request.user).select_related("profile__target_cycle")
    return render(request, "advisor/student_list.html", {"students": students})


@login_required
@require_GET
def student_detail(request, pk: int):
    """An advisor's read-only view of one assigned student's pathway."""
    student = get_applicant_for(request.user, pk)
    if student == request.user:
        return redirect("applicant:dashboard")
    state = page_state(student.pk)
    context = {"student": student, "read_only": True}
    if state is None:  # "has not set up their pathway yet": nothing to cache
        context["content"] = mark_safe(render_to_string("applicant/dashboard.html#body", context))  # noqa: S308
    else:
        # The content as this advisor sees it: keyed by their id, and by the student's name it shows.
        variant = f"advisor:{request.user.pk}:{zlib.crc32(student.display_name.encode())}"
        context["content"] = dashboard_content(
            request, applicant=student, state=state, variant=variant, extra=context.copy()
        )
    return render(request, "advisor/student_detail.html", context)


@login_required
@require_GET
def student_milestone(request, pk: int, key: str):
    """An advisor's read-only copy of one of their student's milestone pages: no forms."""
    student = get_applicant_for(request.user, pk)
    if student == request.user:
        return redirect("applicant:milestone_detail", key=key)
    milestone = get_milestone_for(request.user, key, applicant=student)
    context = milestone_context(milestone=milestone, read_only=True)
    context["student"] = student
    return render(request, "applicant/milestone_detail.html", context)
