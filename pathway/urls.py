from django.contrib import admin
from django.urls import include, path

from milestones import calendar, reminder_views
from milestones.api import api

from . import api_tokens, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("students/", views.student_list, name="student_list"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("", include("milestones.urls")),
    path("calendar/<slug:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("settings/calendar/regenerate/", calendar.calendar_regenerate, name="calendar_regenerate"),
    path("settings/tokens/", api_tokens.token_list, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", api_tokens.token_revoke, name="api_token_revoke"),
    path("api/v1/", api.urls),
    path("reminders/unsubscribe/<str:token>/", reminder_views.unsubscribe, name="reminder_unsubscribe"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
