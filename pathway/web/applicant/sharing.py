"""The applicant's sharing page: who can see their pathway, what each advisor sees, invitations by
email, an admin's assignments to accept or decline, and ending access at once."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from pathway.access import applicant_only, get_own_invitation_for, get_sharing_for
from pathway.models import AdvisorAssignment, AdvisorInvitation
from pathway.sharing import (
    SharingError,
    accept_assignment,
    end_assignment,
    update_sharing,
    withdraw_invitation,
)
from pathway.tasks import invite_and_enqueue


class SharingChoicesForm(forms.Form):
    shares_scores = forms.BooleanField(required=False, label="Exam scores", initial=True)
    shares_visa = forms.BooleanField(required=False, label="Visa details and visa steps", initial=True)
    shares_notes = forms.BooleanField(required=False, label="My private notes", initial=False)

    def shares(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("shares_scores", "shares_visa", "shares_notes")}


class InviteForm(SharingChoicesForm):
    email = forms.EmailField(label="Advisor's email address", max_length=254)
    field_order = ["email", "shares_scores", "shares_visa", "shares_notes"]


def _choices_form(assignment: AdvisorAssignment, prefix: str) -> SharingChoicesForm:
    initial = {name: getattr(assignment, name) for name in ("shares_scores", "shares_visa", "shares_notes")}
    return SharingChoicesForm(initial=initial, prefix=prefix)


def sharing_context(user, *, invite_form: InviteForm | None = None) -> dict:
    sharings = list(
        AdvisorAssignment.objects.current().filter(applicant=user).select_related("advisor").order_by("created_at")
    )
    return {
        "active": [(a, _choices_form(a, f"s{a.pk}")) for a in sharings if a.accepted_at],
        "waiting": [(a, SharingChoicesForm(prefix=f"s{a.pk}")) for a in sharings if not a.accepted_at],
        "invitations": list(AdvisorInvitation.objects.open().filter(applicant=user)),
        "invite_form": invite_form or InviteForm(),
    }


@never_cache
@applicant_only
@require_GET
def sharing(request):
    return render(request, "applicant/sharing.html", sharing_context(request.user))


@applicant_only
@require_POST
def sharing_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invite_and_enqueue(
                applicant=request.user, email=form.cleaned_data["email"], shares=form.shares()
            )
        except SharingError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. They see your pathway once they accept it, "
                "logged in to their advisor account with that address.",
            )
            return redirect("applicant:sharing")
    return render(request, "applicant/sharing.html", sharing_context(request.user, invite_form=form), status=422)


@applicant_only
@require_POST
def sharing_withdraw(request, pk: int):
    invitation = get_own_invitation_for(request.user, pk)
    withdraw_invitation(invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("applicant:sharing")


def _choices_post(request, assignment: AdvisorAssignment, service, message: str):
    form = SharingChoicesForm(request.POST, prefix=f"s{assignment.pk}")
    form.is_valid()  # three check boxes: an unticked or missing box is "no", never an error
    try:
        service(assignment=assignment, shares=form.shares())
    except SharingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, message)
    return redirect("applicant:sharing")


@applicant_only
@require_POST
def sharing_accept(request, pk: int):
    assignment = get_sharing_for(request.user, pk)
    name = assignment.advisor.display_name
    return _choices_post(request, assignment, accept_assignment, f"{name} can now see your pathway.")


@applicant_only
@require_POST
def sharing_update(request, pk: int):
    assignment = get_sharing_for(request.user, pk)
    name = assignment.advisor.display_name
    return _choices_post(request, assignment, update_sharing, f"Saved what {name} can see.")


@applicant_only
@require_POST
def sharing_end(request, pk: int):
    assignment = get_sharing_for(request.user, pk)
    was_active = assignment.accepted_at is not None
    end_assignment(assignment=assignment)
    name = assignment.advisor.display_name
    messages.success(
        request,
        f"{name} can no longer see your pathway." if was_active else f"You declined {name}'s request.",
    )
    return redirect("applicant:sharing")
