"""Invitations applicants sent to this advisor's email address: accepting one starts the sharing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from pathway.access import get_invitation_to, role_required
from pathway.models import AdvisorInvitation, User
from pathway.sharing import SharingError, accept_invitation


@login_required
@role_required(User.Role.ADVISOR)
@require_GET
def invitation_list(request):
    invitations = (
        AdvisorInvitation.objects.open()
        .filter(email__iexact=request.user.email, applicant__is_active=True)
        .select_related("applicant")
    )
    return render(request, "advisor/invitations.html", {"invitations": invitations})


@login_required
@role_required(User.Role.ADVISOR)
@require_POST
def invitation_accept(request, pk: int):
    invitation = get_invitation_to(request.user, pk)
    try:
        assignment = accept_invitation(advisor=request.user, invitation=invitation)
    except SharingError as exc:
        messages.error(request, str(exc))
        return redirect("advisor:invitations")
    messages.success(request, f"You can now see {invitation.applicant.display_name}'s pathway.")
    return redirect("advisor:student_detail", pk=assignment.applicant_id)
