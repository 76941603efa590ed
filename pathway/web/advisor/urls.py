"""The advisor's face: the students assigned to them, read-only (`advisor:`)."""

from django.urls import path

from . import views

app_name = "advisor"

urlpatterns = [
    path("students/", views.student_list, name="student_list"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("students/<int:pk>/milestones/<slug:key>/", views.student_milestone, name="student_milestone"),
]
