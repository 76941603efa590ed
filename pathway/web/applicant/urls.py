"""The applicant's face: their own pathway, settings, data, calendar feed and API tokens (`applicant:`)."""

from django.urls import include, path

from . import calendar, choices, sharing, tokens, unsubscribe, views

app_name = "applicant"

milestone_urls = [
    path("", views.milestone_detail, name="milestone_detail"),
    path("status/", views.milestone_status, name="milestone_status"),
    path("attempts/", views.milestone_attempt, name="milestone_attempt"),
    path("oet/", views.milestone_oet, name="milestone_oet"),
    path("documents/", views.milestone_document, name="milestone_document"),
    path("usce/", views.milestone_usce, name="milestone_usce"),
    path("note/", views.milestone_note, name="milestone_note"),
    path(
        "evidence/<slug:kind>/<int:pk>/delete/",
        views.milestone_evidence_delete,
        name="milestone_evidence_delete",
    ),
]

urlpatterns = [
    path("onboarding/", views.onboarding, name="onboarding"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/progress/", views.dashboard_progress, name="dashboard_progress"),
    path("timeline/", views.timeline, name="timeline"),
    path("milestones/<slug:key>/", include(milestone_urls)),
    path("dashboard/switch-match/", choices.switch_cycle, name="switch_cycle"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/optional-steps/", choices.optional_step, name="optional_step"),
    path("settings/profile/", views.settings_profile, name="settings_profile"),
    path("settings/export.json", views.export_json, name="export_json"),
    path("settings/export.csv", views.export_csv, name="export_csv"),
    path("settings/delete/", views.account_delete, name="account_delete"),
    path("settings/calendar/regenerate/", calendar.calendar_regenerate, name="calendar_regenerate"),
    path("settings/sharing/", sharing.sharing, name="sharing"),
    path("settings/sharing/invite/", sharing.sharing_invite, name="sharing_invite"),
    path("settings/sharing/invitations/<int:pk>/withdraw/", sharing.sharing_withdraw, name="sharing_withdraw"),
    path("settings/sharing/<int:pk>/accept/", sharing.sharing_accept, name="sharing_accept"),
    path("settings/sharing/<int:pk>/", sharing.sharing_update, name="sharing_update"),
    path("settings/sharing/<int:pk>/end/", sharing.sharing_end, name="sharing_end"),
    path("settings/tokens/", tokens.token_list, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", tokens.token_revoke, name="api_token_revoke"),
    path("calendar/<slug:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("reminders/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="reminder_unsubscribe"),
]
