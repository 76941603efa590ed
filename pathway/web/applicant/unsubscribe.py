"""The one-click unsubscribe link in reminder emails: signed, no login (RFC 8058)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from milestones.reminders import unsubscribe_from_reminders, user_for_unsubscribe_token


# CSRF protection cannot apply: mail providers POST "List-Unsubscribe=One-Click" with no cookie and no
# token (RFC 8058). The signed token in the URL is what authorizes the change, and all it can do is
# switch reminders off for the account it names.
@csrf_exempt
# The page names the account and its URL is the credential: not for any cache, shared or not.
@cache_control(private=True, no_store=True)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    user = user_for_unsubscribe_token(token)
    if user is None:
        return render(request, "applicant/unsubscribe.html", {"invalid": True}, status=404)
    # GET only asks: link scanners and prefetchers follow links, and must not unsubscribe anyone.
    if request.method == "POST":
        unsubscribe_from_reminders(user=user)
        return render(request, "applicant/unsubscribe.html", {"done": True, "email": user.email})
    return render(request, "applicant/unsubscribe.html", {"email": user.email})
