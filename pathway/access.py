"""Access-checked fetches: every view gets its objects through these, so strangers get 404."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import User


def role_required(*roles: str):
    """Views for one kind of user: everyone else gets 404, as if the page did not exist."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def get_applicant_for(user, pk: int) -> User:
    """An applicant `user` may read: themselves, an assigned student, or any applicant for admins."""
    return get_object_or_404(User.objects.applicants_visible_to(user), pk=pk)
