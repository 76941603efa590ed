from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .models import AdvisorAssignment, User


def admin_login(request, extra_context=None):
    """The admin has no password form of its own: it sends everyone to allauth's login, whose rate
    limits, lockout after failed attempts and second factor then guard the admin too (one login, one
    limit). Someone signed in without staff rights gets 404: the admin might as well not exist."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if request.user.is_authenticated:
        if not (request.user.is_active and request.user.is_staff):
            raise Http404
        return HttpResponseRedirect(next_url)
    return redirect_to_login(next_url)


admin.site.login = admin_login


class AssignmentInline(admin.TabularInline):
    model = AdvisorAssignment
    fk_name = "applicant"
    extra = 0
    autocomplete_fields = ["advisor"]
    # Stamped by the system; the admin's date-time fields drop microseconds, so an editable stamp
    # would change on every unchanged save. Only the applicant accepts an assignment.
    readonly_fields = ["created_at", "accepted_at", "shares_scores", "shares_visa", "shares_notes"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "role"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "role", "password1", "password2"]})
    ]
    inlines = [AssignmentInline]
    # is_staff follows the role (User.save): only admins are staff. The dates are stamped by the
    # system (an editable one would lose its microseconds on every unchanged save).
    readonly_fields = ["is_staff", "last_login", "date_joined"]


@admin.register(AdvisorAssignment)
class AdvisorAssignmentAdmin(admin.ModelAdmin):
    list_display = ["advisor", "applicant", "origin", "created_at", "accepted_at", "ended_at"]
    list_filter = ["origin"]
    autocomplete_fields = ["advisor", "applicant"]
    # Only the applicant accepts (and chooses what to share): an admin's assignment waits for them.
    readonly_fields = ["origin", "created_at", "accepted_at", "shares_scores", "shares_visa", "shares_notes"]
