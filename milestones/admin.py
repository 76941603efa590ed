"""Admin: cycles with their events, the template graph, the rule tables, and a read-mostly view of
applicants' milestones. Every editable model keeps an edit history (django-simple-history).

Saving a cycle or a template recomputes the affected deadlines in bulk, in the same transaction as
the edit, so an admin never sees a saved event date with stale deadlines behind it.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from pathway.lib.times import ET

from .deadlines import EventDate, Rule
from .graph import anchor_problem, describe_cycle, find_cycle, layered_layout
from .models import (
    ApplicantProfile,
    ApplicantType,
    ApplicationService,
    AttemptLimit,
    Confidence,
    CycleEvent,
    DeadlineKind,
    DocumentEvidence,
    ErasFeeSchedule,
    ExamAttempt,
    MatchCycle,
    Milestone,
    MilestoneTemplate,
    OETResult,
    OETSeasonWindow,
    OETThreshold,
    PassingStandard,
    PathwaySeason,
    ScoreReleaseRule,
    SignalAllowance,
    TemplatePrerequisite,
    TravelBanCountry,
    USCEEntry,
    VisaRule,
)
from .services import copy_cycle_to_next_year, preview_deadline_changes, recompute_deadlines, save_profile

# --- Preview before saving ---------------------------------------------------------------------

# The name of the "Confirm and save" button; its value is the fingerprint of the change previewed,
# so a confirmation never saves a change other than the one whose effect the admin read.
CONFIRM = "_confirm_deadlines"
PREVIEW_MESSAGE = (
    "This change moves applicants' deadlines and is not saved yet: read its effect at the top of the "
    "page, then press “Confirm and save”."
)


def _fingerprint(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


class PreviewBeforeSave:
    """A form or formset that, when a date-affecting value changed, computes the effect
    (`deadline_preview`) and refuses to validate until the admin confirms that very change."""

    deadline_preview = None
    confirm_token = ""

    def require_confirmation(self, *, token: str, preview) -> None:
        if self.data.get(CONFIRM) == token:
            return
        self.deadline_preview, self.confirm_token = preview(), token
        raise ValidationError(PREVIEW_MESSAGE, code="confirm")


class ShowsDeadlinePreview:
    """ModelAdmin side: puts the preview of the form or of an inline formset in the page's context."""

    def render_change_form(self, request, context, *args, **kwargs):
        sources = [context["adminform"].form] + [f.formset for f in context.get("inline_admin_formsets", [])]
        for source in sources:
            if getattr(source, "deadline_preview", None) is not None:
                context.update(
                    deadline_preview=source.deadline_preview,
                    confirm_token=source.confirm_token,
                    confirm_name=CONFIRM,
                    preview_tz=ET,
                )
                if len(context.get("errors") or []) == 1:
                    context["errors"] = []  # the preview is the only "error": no "Please correct" banner
        return super().render_change_form(request, context, *args, **kwargs)


# --- Cycles ------------------------------------------------------------------------------------

# The event fields a deadline reads; title, source and note change no date.
EVENT_DATE_FIELDS = {"key", "at", "status"}


class CycleEventFormSet(PreviewBeforeSave, BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        moved = self.deleted_forms or [
            form
            for form in self.forms
            if form.has_changed() and (form.instance.pk is None or EVENT_DATE_FIELDS & set(form.changed_data))
        ]
        if not moved:
            return
        events = {
            form.cleaned_data["key"]: EventDate(
                form.cleaned_data["at"], form.cleaned_data["status"] == Confidence.PROJECTED
            )
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        }
        token = _fingerprint(
            "cycle", self.instance.pk, sorted((k, e.at.isoformat(), e.projected) for k, e in events.items())
        )
        self.require_confirmation(
            token=token, preview=lambda: preview_deadline_changes(cycle=self.instance, events=events)
        )


class CycleEventInline(admin.TabularInline):
    model = CycleEvent
    formset = CycleEventFormSet
    extra = 0
    fields = ["key", "title", "at", "status", "source_url", "note"]


@admin.register(MatchCycle)
class MatchCycleAdmin(ShowsDeadlinePreview, SimpleHistoryAdmin):
    list_display = ["name", "year"]
    inlines = [CycleEventInline]
    actions = ["copy_to_next_year"]

    def changeform_view(self, request, *args, **kwargs):
        # Event times are published in US Eastern time: show and read them on that clock. The admin
        # returns a lazy TemplateResponse, so it is rendered here, inside the override: rendered after
        # it, the form showed UTC and read the same digits back as Eastern time, and every unchanged
        # save moved every event 4-5 hours later.
        with timezone.override(ET):
            response = super().changeform_view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            return response

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and not any(formset.has_changed() for formset in formsets):
            return  # no event was added, removed or edited: no deadline can have moved
        changed = recompute_deadlines(cycle=form.instance)
        if changed:
            self.message_user(request, f"Deadlines recomputed for {changed} milestones.")

    @admin.action(description="Copy this cycle to next year")
    def copy_to_next_year(self, request, queryset):
        for cycle in queryset:
            try:
                new = copy_cycle_to_next_year(cycle=cycle)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Created the {new.name} with {new.events.count()} events, all marked projected: "
                    "confirm each date against its source before relying on it.",
                )


# --- Templates ---------------------------------------------------------------------------------


def _known_event_keys() -> set[str]:
    return set(CycleEvent.objects.values_list("key", flat=True).distinct())


# Lead times: whole days before the deadline, 0 meaning on the day; a year is the longest sensible warning.
LEAD_DAYS_RANGE = range(0, 366)
DEADLINE_FIELDS = {"deadline_kind", "deadline_anchor", "deadline_offset_days"}


def clean_lead_days(value) -> list[int]:
    """A JSON list of lead times, checked one by one; every problem is named in one message."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError("Enter a list of whole numbers of days, e.g. [30, 7, 1].")
    problems = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int):
            problems.append(f"“{item}” is not a whole number of days.")
        elif item not in LEAD_DAYS_RANGE:
            problems.append(f"{item} is out of range: use 0 to 365 days.")
    if problems:
        raise ValidationError(" ".join(problems))
    return sorted(set(value), reverse=True)


class MilestoneTemplateForm(PreviewBeforeSave, forms.ModelForm):
    class Meta:
        model = MilestoneTemplate
        fields = [
            "key",
            "title",
            "phase",
            "order",
            "guidance",
            "applies_to",
            "visa_route",
            "optional",
            "deadline_kind",
            "deadline_anchor",
            "deadline_offset_days",
            "evidence",
            "exam",
            "reminder_lead_days",
            "source_url",
            "is_active",
        ]

    def clean_applies_to(self):
        value = self.cleaned_data["applies_to"] or []
        known = ", ".join(ApplicantType.values)
        if not isinstance(value, list):
            raise ValidationError(f'Enter a list of applicant types, e.g. ["US_IMG"], from: {known}.')
        unknown = [str(item) for item in value if item not in ApplicantType.values]
        if unknown:
            names = ", ".join(f"“{item}”" for item in unknown)
            raise ValidationError(f"Unknown applicant type {names}; use: {known}.")
        return value

    def clean_reminder_lead_days(self):
        return clean_lead_days(self.cleaned_data["reminder_lead_days"])

    def clean(self):
        data = super().clean()
        kind = data.get("deadline_kind")
        if kind is None:
            return data
        anchor, offset, key = (
            data.get("deadline_anchor") or "",
            data.get("deadline_offset_days") or 0,
            data.get("key"),
        )
        template_keys = set(MilestoneTemplate.objects.values_list("key", flat=True)) | {key}
        problem = anchor_problem(
            kind=kind,
            anchor=anchor,
            offset=offset,
            event_keys=_known_event_keys(),
            template_keys=template_keys,
        )
        if problem:
            raise ValidationError({"deadline_anchor": problem})
        if kind == DeadlineKind.MILESTONE:
            anchors = {
                k: [a]
                for k, a in MilestoneTemplate.objects.filter(deadline_kind=DeadlineKind.MILESTONE)
                .exclude(pk=self.instance.pk)
                .values_list("key", "deadline_anchor")
            }
            anchors[key] = [anchor]
            loop = find_cycle(anchors)
            if loop:
                raise ValidationError(
                    {"deadline_anchor": f"This deadline anchor makes a loop: {describe_cycle(loop)}."}
                )
        if self.instance.pk and not self.errors and DEADLINE_FIELDS & set(self.changed_data):
            rule = Rule(kind, anchor, offset)
            self.require_confirmation(
                token=_fingerprint("template", self.instance.pk, rule),
                # The instance still holds the stored key here (the form writes to it after clean).
                preview=lambda: preview_deadline_changes(template_key=self.instance.key, rule=rule),
            )
        return data


class PrerequisiteFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        key = self.instance.key
        edges: dict[str, list[str]] = {}
        for template_key, requires_key in TemplatePrerequisite.objects.exclude(template__key=key).values_list(
            "template__key", "requires__key"
        ):
            edges.setdefault(template_key, []).append(requires_key)
        mine = edges.setdefault(key, [])
        for form in self.forms:
            requires = form.cleaned_data.get("requires")
            if requires is None or form.cleaned_data.get("DELETE"):
                continue
            if requires.key == key:
                raise ValidationError("A milestone cannot require itself.")
            mine.append(requires.key)
        loop = find_cycle(edges)
        if loop:
            raise ValidationError(f"These prerequisites make a loop: {describe_cycle(loop)}.")


class TemplatePrerequisiteForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        # Said here, as a sentence, before the database constraint would say
        # 'Constraint "no_self_prerequisite" is violated'.
        template = data.get("template") or self.instance.template_id and self.instance.template
        if template is not None and data.get("requires") == template:
            self.add_error("requires", "A milestone cannot require itself: choose another milestone.")
        return data


class TemplatePrerequisiteInline(admin.TabularInline):
    model = TemplatePrerequisite
    fk_name = "template"
    form = TemplatePrerequisiteForm
    formset = PrerequisiteFormSet
    extra = 0
    autocomplete_fields = ["requires"]


@admin.register(MilestoneTemplate)
class MilestoneTemplateAdmin(ShowsDeadlinePreview, SimpleHistoryAdmin):
    form = MilestoneTemplateForm
    list_display = [
        "key",
        "title",
        "phase",
        "order",
        "deadline_kind",
        "deadline_anchor",
        "deadline_offset_days",
        "is_active",
    ]
    list_filter = ["phase", "deadline_kind", "evidence", "optional", "is_active"]
    search_fields = ["key", "title", "guidance"]
    inlines = [TemplatePrerequisiteInline]

    def get_urls(self):
        graph = self.admin_site.admin_view(self.graph_view)
        return [path("graph/", graph, name="milestones_milestonetemplate_graph"), *super().get_urls()]

    def graph_view(self, request):
        """The template graph as a picture (server-rendered SVG) and as a nested list by phase."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        templates = list(MilestoneTemplate.objects.order_by("order", "key"))
        links = list(
            TemplatePrerequisite.objects.order_by("requires__order", "requires__key").values_list(
                "template__key", "requires__key", "kind"
            )
        )
        by_key = {t.key: t for t in templates}
        requires: dict[str, list] = {}
        for template_key, requires_key, kind in links:
            requires.setdefault(template_key, []).append((by_key[requires_key], kind == "hard"))
        phases = [
            (label, [(t, requires.get(t.key, [])) for t in templates if t.phase == value])
            for value, label in MilestoneTemplate._meta.get_field("phase").choices
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Template graph",
            "opts": self.model._meta,
            "picture": layered_layout([(t.key, t.title) for t in templates], links),
            "phases": [(label, rows) for label, rows in phases if rows],
        }
        return TemplateResponse(request, "admin/milestones/milestonetemplate/graph.html", context)

    def save_model(self, request, obj, form, change):
        # Recomputed here, not in save_related: reverting a version from the edit history saves the
        # model without its inlines (simple_history's history_form_view never calls save_related),
        # and a reverted deadline rule must move the deadlines back too. Prerequisites move no date.
        super().save_model(request, obj, form, change)
        changed = recompute_deadlines(template=obj)
        if changed:
            self.message_user(request, f"Deadlines recomputed for {changed} milestones.")


# --- Rule tables -------------------------------------------------------------------------------


@admin.register(PassingStandard)
class PassingStandardAdmin(SimpleHistoryAdmin):
    list_display = ["exam", "min_score", "pass_fail_only", "effective_from", "effective_to", "status"]
    list_filter = ["exam", "status"]


@admin.register(AttemptLimit)
class AttemptLimitAdmin(SimpleHistoryAdmin):
    list_display = ["exam", "max_attempts", "max_in_12_months", "effective_from", "effective_to", "status"]


@admin.register(OETThreshold)
class OETThresholdAdmin(SimpleHistoryAdmin):
    list_display = ["listening", "reading", "speaking", "writing", "effective_from", "effective_to", "status"]


@admin.register(ScoreReleaseRule)
class ScoreReleaseRuleAdmin(SimpleHistoryAdmin):
    list_display = ["exam", "typical_days", "worst_case_days", "release_weekday", "effective_from", "status"]


@admin.register(ErasFeeSchedule)
class ErasFeeScheduleAdmin(SimpleHistoryAdmin):
    list_display = ["cycle_year", "status"]


@admin.register(SignalAllowance)
class SignalAllowanceAdmin(SimpleHistoryAdmin):
    list_display = ["specialty", "cycle_year", "gold", "silver", "total", "status"]
    list_filter = ["cycle_year", "status"]
    search_fields = ["specialty"]


# --- Applicants (read mostly) -----------------------------------------------------------------------


class ApplicantProfileAdminForm(forms.ModelForm):
    class Meta:
        model = ApplicantProfile
        # Every field, as the admin's default form had: the profile grows fields the admin must show.
        fields = "__all__"  # noqa: DJ007

    def clean_reminder_lead_days(self):
        # None means "the templates' own lead times"; an empty list is read the same way.
        return clean_lead_days(self.cleaned_data["reminder_lead_days"]) or None


@admin.register(ApplicantProfile)
class ApplicantProfileAdmin(SimpleHistoryAdmin):
    form = ApplicantProfileAdminForm
    list_display = ["user", "applicant_type", "needs_visa", "visa_route", "target_cycle", "time_zone"]
    list_filter = ["applicant_type", "needs_visa", "target_cycle"]
    search_fields = ["user__email", "user__name"]
    readonly_fields = ["user", "calendar_token", "created_at"]

    def has_add_permission(self, request):
        # Profiles come from onboarding, which also plans the pathway.
        return False

    def save_model(self, request, obj, form, change):
        # A changed type, visa or cycle changes which milestones apply and every anchored deadline, so
        # the service saves and re-plans in one transaction (and records the admin as the editor).
        save_profile(profile=obj, replan=True, by=request.user)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ExamAttemptInline(ReadOnlyInline):
    model = ExamAttempt


class OETResultInline(ReadOnlyInline):
    model = OETResult


class DocumentEvidenceInline(ReadOnlyInline):
    model = DocumentEvidence


class USCEEntryInline(ReadOnlyInline):
    model = USCEEntry


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    """Read only: status and evidence change through the services, which enforce the rules."""

    list_display = ["applicant", "template", "status", "due_at", "due_projected", "is_applicable"]
    list_filter = ["status", "is_applicable", "due_projected", "template__phase"]
    list_select_related = ["applicant", "template"]
    search_fields = ["applicant__email", "template__key", "template__title"]
    inlines = [ExamAttemptInline, OETResultInline, DocumentEvidenceInline, USCEEntryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Rule tables of the November 2026 domain audit (each row dated and sourced) ----------------


@admin.register(OETSeasonWindow)
class OETSeasonWindowAdmin(admin.ModelAdmin):
    list_display = ["cycle_year", "tests_from", "status", "last_verified", "source_url"]
    list_filter = ["status"]


@admin.register(PathwaySeason)
class PathwaySeasonAdmin(admin.ModelAdmin):
    list_display = ["cycle_year", "pathways_3_5_graduated_from", "fee_usd", "status", "last_verified"]
    list_filter = ["status"]


@admin.register(ApplicationService)
class ApplicationServiceAdmin(admin.ModelAdmin):
    list_display = ["cycle_year", "service", "specialties", "status", "last_verified"]
    list_filter = ["service", "status"]


@admin.register(TravelBanCountry)
class TravelBanCountryAdmin(admin.ModelAdmin):
    list_display = [
        "country",
        "level",
        "visa_classes",
        "in_force_from",
        "in_force_to",
        "status",
        "last_verified",
    ]
    list_filter = ["level", "status"]
    search_fields = ["country"]


@admin.register(VisaRule)
class VisaRuleAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "in_force_from", "initial_term_to", "status", "last_verified"]
    list_filter = ["visa_route", "status"]
