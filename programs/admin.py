"""Admin of the program directory: specialties, institutions, programs with their claims, the review queue,
the settings row, and the CSV import in two steps (upload = a dry run showing every row error or what would
change; then "Confirm import" applies exactly that file). Every editable model keeps its history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from .exporter import export_programs_csv
from .importer import import_programs
from .models import (
    ApplicantProgram,
    DirectorySettings,
    Institution,
    OutdatedReport,
    Program,
    ProgramImport,
    RequirementClaim,
    Specialty,
)
from .services.reports import accept_report, dismiss_report

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@admin.register(Specialty)
class SpecialtyAdmin(SimpleHistoryAdmin):
    list_display = ["acgme_code", "name", "application_service", "service_since_cycle", "status", "last_verified"]
    list_filter = ["application_service", "status"]
    search_fields = ["acgme_code", "name"]


@admin.register(Institution)
class InstitutionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "city", "state", "nrmp_code"]
    list_filter = ["state"]
    search_fields = ["name", "city", "nrmp_code"]


class ClaimInline(admin.TabularInline):
    model = RequirementClaim
    extra = 0
    fields = ["requirement", "state", "value_bool", "value_int", "value_date", "value_text", "source_url",
              "source_kind", "observed_on", "entered_by", "verified_by", "verified_at"]
    readonly_fields = ["entered_by", "verified_by", "verified_at"]


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    list_display = ["name", "nrmp_code", "specialty", "state", "program_type", "listed", "origin"]
    list_filter = ["listed", "origin", "program_type", "specialty", "state"]
    search_fields = ["name", "eras_name", "nrmp_name", "nrmp_code", "acgme_id", "institution__name"]
    list_select_related = ["specialty"]
    autocomplete_fields = ["institution", "specialty"]
    readonly_fields = ["program_type", "track", "added_by", "created_at", "updated_at"]
    inlines = [ClaimInline]
    actions = ["export_csv", "list_programs"]

    def save_formset(self, request, form, formset, change):
        # Claims entered here are the admin's own: recorded as entered (and so verified) by them.
        claims = formset.save(commit=False)
        for claim in claims:
            claim.entered_by = claim.entered_by or request.user
            claim.verified_by, claim.verified_at = request.user, timezone.now()
            claim.updated_at = timezone.now()
            claim.save()
        for claim in formset.deleted_objects:
            claim.delete()

    @admin.action(description="Export the selected programs as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="programs.csv"'
        export_programs_csv(queryset.order_by("nrmp_code", "pk"), response)
        return response

    @admin.action(description="List the selected programs in everyone's directory")
    def list_programs(self, request, queryset):
        count = 0
        for program in queryset.filter(listed=False):
            program.listed = True
            program._history_user = request.user
            program.save(update_fields=["listed", "updated_at"])
            count += 1
        self.message_user(request, f"{count} program(s) listed.")


@admin.register(RequirementClaim)
class RequirementClaimAdmin(SimpleHistoryAdmin):
    list_display = ["program", "requirement", "display_value", "observed_on", "source_kind", "verified_by"]
    list_filter = ["requirement", "state", "source_kind"]
    search_fields = ["program__name", "program__nrmp_code"]
    list_select_related = ["program", "verified_by"]
    raw_id_fields = ["program"]
    readonly_fields = ["entered_by", "verified_by", "verified_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.entered_by = obj.entered_by or request.user
        obj.verified_by, obj.verified_at = request.user, timezone.now()
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(DirectorySettings)
class DirectorySettingsAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "stale_after_days", "updated_at"]

    def has_add_permission(self, request):
        return not DirectorySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutdatedReport)
class OutdatedReportAdmin(SimpleHistoryAdmin):
    list_display = ["program", "requirement", "proposed_value", "status", "reported_by", "created_at"]
    list_filter = ["status", "requirement"]
    search_fields = ["program__name", "program__nrmp_code", "message"]
    list_select_related = ["program", "reported_by"]
    readonly_fields = ["program", "requirement", "proposed_value", "message", "source_url", "source_kind",
                       "observed_on", "reported_by", "status", "reviewed_by", "reviewed_at", "created_at"]
    actions = ["accept", "dismiss"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Accept the selected reports (update the claims)")
    def accept(self, request, queryset):
        self._review(request, queryset.filter(status=OutdatedReport.Status.OPEN), accept_report, "accepted")

    @admin.action(description="Dismiss the selected reports")
    def dismiss(self, request, queryset):
        self._review(request, queryset.filter(status=OutdatedReport.Status.OPEN), dismiss_report, "dismissed")

    def _review(self, request, queryset, service, word):
        done = 0
        for report in queryset:
            try:
                service(report=report, by=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{report}: {' '.join(error.messages)}", messages.ERROR)
        self.message_user(request, f"{done} report(s) {word}.")


@admin.register(ApplicantProgram)
class ApplicantProgramAdmin(admin.ModelAdmin):
    list_display = ["program", "applicant", "added_at"]
    raw_id_fields = ["program", "applicant"]
    search_fields = ["program__name", "applicant__email"]


# --- The CSV import: upload (dry run), then confirm ----------------------------------------------


class UploadForm(forms.ModelForm):
    file = forms.FileField(help_text="A CSV in the format described in the README (“Program directory”).")

    class Meta:
        model = ProgramImport
        fields = []

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        try:
            return upload.name, upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text: save it from the spreadsheet as “CSV UTF-8”.") from None


@admin.register(ProgramImport)
class ProgramImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "status", "uploaded_by", "created_at", "applied_at"]
    readonly_fields = ["file_name", "status", "outcome", "uploaded_by", "created_at", "applied_at"]
    fields = readonly_fields
    change_form_template = "admin/programs/programimport/change_form.html"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UploadForm
            kwargs["fields"] = []
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["file"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.file_name, obj.content = form.cleaned_data["file"]
        obj.uploaded_by = request.user
        result = import_programs(text=obj.content, dry_run=True, by=request.user)
        obj.report = result.as_dict()
        obj.status = ProgramImport.Status.CHECKED if result.ok else ProgramImport.Status.FAILED
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(reverse("admin:programs_programimport_change", args=[obj.pk]))

    @admin.display(description="Dry run")
    def outcome(self, obj):
        report = obj.report or {}
        errors = report.get("errors") or []
        if errors:
            rows = format_html_join(
                "", "<li>line {}, {}: {}</li>", ((e["line"], e["field"], e["message"]) for e in errors)
            )
            return format_html("<p>{} error(s): nothing will be imported.</p><ul>{}</ul>", len(errors), rows)
        return format_html(
            "<p>{} row(s): {} new, {} updated, {} unchanged; {} claim(s) would change, {} kept (newer).</p>",
            report.get("rows", 0), report.get("created", 0), report.get("updated", 0), report.get("unchanged", 0),
            report.get("claims_changed", 0), report.get("claims_kept_newer", 0),
        )

    def get_urls(self):
        apply = self.admin_site.admin_view(self.apply_view)
        return [path("<path:object_id>/apply/", apply, name="programs_programimport_apply"), *super().get_urls()]

    def apply_view(self, request, object_id):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if not object_id.isdigit() or len(object_id) > 18:
            return HttpResponseRedirect(reverse("admin:programs_programimport_changelist"))
        if request.method != "POST":  # only the confirm button imports; a GET shows the file's page
            return HttpResponseRedirect(reverse("admin:programs_programimport_change", args=[object_id]))
        with transaction.atomic():  # a double click waits for the first, then finds the file imported
            upload = get_object_or_404(ProgramImport.objects.select_for_update(), pk=object_id)
            if upload.status != ProgramImport.Status.CHECKED:
                self.message_user(request, "Only a checked file without errors can be imported, once.", messages.ERROR)
            else:
                self._apply(request, upload)
        return HttpResponseRedirect(reverse("admin:programs_programimport_change", args=[upload.pk]))

    def _apply(self, request, upload):
        result = import_programs(text=upload.content, dry_run=False, by=request.user)
        upload.report = result.as_dict()
        if result.ok:
            upload.status, upload.applied_at = ProgramImport.Status.APPLIED, timezone.now()
            self.message_user(request, f"Imported: {result.created} new, {result.updated} updated, "
                                       f"{result.unchanged} unchanged.")
        else:
            upload.status = ProgramImport.Status.FAILED
            self.message_user(request, "The file has errors now (the directory changed): nothing imported.",
                              messages.ERROR)
        upload.save(update_fields=["report", "status", "applied_at"])
