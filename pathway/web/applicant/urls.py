"""The applicant's face: their own pathway, settings, data, calendar feed and API tokens (`applicant:`)."""

from django.urls import include, path

from . import calendar, choices, season, season_letters, season_match, sharing, tokens, unsubscribe, views

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

season_urls = [
    path("programs/", season.programs_list, name="season_programs"),
    path("programs/export.csv", season.programs_csv, name="season_programs_csv"),
    path("programs/add/", season.programs_add, name="season_add"),
    path("programs/<int:pk>/", season.application_detail, name="season_application"),
    path("programs/<int:pk>/status/", season.application_status, name="season_status"),
    path("programs/<int:pk>/notes/", season.application_notes, name="season_notes"),
    path("programs/<int:pk>/signal/", season.application_signal, name="season_signal"),
    path("programs/<int:pk>/interview/", season.application_interview, name="season_interview"),
    path("programs/<int:pk>/scores/", season.application_scores, name="season_scores"),
    path("costs/", season.costs, name="season_costs"),
    path("signals/", season.signals, name="season_signals"),
    path("interviews/", season.interviews, name="season_interviews"),
    path("criteria/<int:pk>/delete/", season.criterion_delete, name="season_criterion_delete"),
    path("letters/", season_letters.letters, name="season_letters"),
    path("letters/<int:pk>/", season_letters.letter_detail, name="season_letter"),
    path("letters/<int:pk>/assign/", season_letters.letter_assign, name="season_letter_assign"),
    path(
        "letters/<int:pk>/unassign/<int:application>/",
        season_letters.letter_unassign,
        name="season_letter_unassign",
    ),
    path("letters/<int:pk>/delete/", season_letters.letter_delete, name="season_letter_delete"),
]

# The season's end (issue 13 part B): rank order list, Match Week, SOAP. Ids go in the POST bodies.
season_match_urls = [
    path("rank-order-list/", season_match.rank_order_list, name="season_rol"),
    path("rank-order-list/order/", season_match.rol_order, name="season_rol_order"),
    path("rank-order-list/add/", season_match.rol_add, name="season_rol_add"),
    path("rank-order-list/supplemental/", season_match.rol_supplemental, name="season_rol_supplemental"),
    path(
        "rank-order-list/supplemental/delete/",
        season_match.rol_supplemental_delete,
        name="season_rol_supplemental_delete",
    ),
    path("rank-order-list/certify/", season_match.rol_certify, name="season_rol_certify"),
    path("match-week/", season_match.match_week, name="season_match"),
    path("match-week/status/", season_match.match_status, name="season_match_status"),
    path("match-week/program/", season_match.match_program, name="season_match_program"),
    path("match-week/soap/apply/", season_match.soap_apply, name="season_soap_apply"),
    path("match-week/soap/offer/", season_match.soap_offer, name="season_soap_offer"),
    path("match-week/soap/answer/", season_match.soap_answer, name="season_soap_answer"),
]

urlpatterns = [
    path("season/", include(season_urls)),
    path("season/", include(season_match_urls)),
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
