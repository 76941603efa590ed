from django import forms
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .models import AdvisorAssignment, User
from .sharing import BULK_MAX_ROWS, bulk_assign
from .tokens import api_tokens_revoke_all


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


class PasswordChangeRevokingTokens(AdminPasswordChangeForm):
    """The admin's "set password" form. An admin sets a password for someone whose password leaked: as
    when the user changes it themselves (adapters.revoke_tokens_on_new_password), their API tokens are
    revoked too; Django already ends their sessions, which it ties to the password."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            user.revoked_api_tokens = api_tokens_revoke_all(user=user)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = PasswordChangeRevokingTokens
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

    def log_change(self, request, obj, message):
        # Django's password view logs the change right after saving the form: the one place here that
        # has both the request and the user the form saved.
        if revoked := getattr(obj, "revoked_api_tokens", 0):
            tokens = "API token" if revoked == 1 else "API tokens"
            messages.warning(request, f"{revoked} {tokens} of {obj.email} {'was' if revoked == 1 else 'were'} revoked.")
        return super().log_change(request, obj, message)


BULK_MAX_BYTES = 1_000_000


class BulkAssignForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"One pair per line: advisor email, student email (a header line is allowed; at most "
        f"{BULK_MAX_ROWS} lines).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > BULK_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB: split it.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text: save it as CSV (UTF-8).") from None


@admin.register(AdvisorAssignment)
class AdvisorAssignmentAdmin(admin.ModelAdmin):
    change_list_template = "admin/pathway/advisorassignment/change_list.html"
    list_display = ["advisor", "applicant", "origin", "created_at", "accepted_at", "ended_at"]
    list_filter = ["origin"]
    autocomplete_fields = ["advisor", "applicant"]
    # Only the applicant accepts (and chooses what to share): an admin's assignment waits for them.
    readonly_fields = ["origin", "created_at", "accepted_at", "shares_scores", "shares_visa", "shares_notes"]

    def get_urls(self):
        bulk = self.admin_site.admin_view(self.bulk_view)
        return [path("bulk/", bulk, name="pathway_advisorassignment_bulk"), *super().get_urls()]

    def bulk_view(self, request):
        """Assign advisors to students from a CSV of emails: a dry run first, the errors line by line,
        and all or nothing. Each assignment waits for its student to accept it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BulkAssignForm(request.POST or None, request.FILES or None)
        result, dry_run = None, True
        if request.method == "POST" and form.is_valid():
            dry_run = "assign" not in request.POST
            result = bulk_assign(text=form.cleaned_data["file"], dry_run=dry_run)
            if result.created:
                messages.success(request, f"{result.created} assignments created; each waits for its student.")
                return HttpResponseRedirect(reverse("admin:pathway_advisorassignment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Assign advisors from a CSV file",
            "opts": self.model._meta,
            "form": form,
            "result": result,
            "dry_run": dry_run,
        }
        status = 422 if result is not None and result.errors else 200
        return TemplateResponse(request, "admin/pathway/advisorassignment/bulk.html", context, status=status)
