"""The advisor's face: the students assigned to them, read-only (`advisor:`)."""

from django.urls import path

from . import cohort, invitations, programs, student, views, workspace

app_name = "advisor"

urlpatterns = [
    # The cohort (issue 14): the table (its htmx partial is the same URL), its CSV, its picture.
    path("advisor/", cohort.cohort_table, name="cohort"),
    path("advisor/cohort.csv", cohort.cohort_csv, name="cohort_csv"),
    path("advisor/picture/", cohort.cohort_picture, name="cohort_picture"),
    path("advisor/settings/", workspace.workspace_settings, name="workspace_settings"),
    path("advisor/digest/stop/<str:token>/", workspace.digest_opt_out, name="digest_opt_out"),
    # The former list of students: the cohort replaced it.
    path("students/", views.student_list, name="student_list"),
    path("students/<int:pk>/", student.student_detail, name="student_detail"),
    path("students/<int:pk>/timeline/", student.student_timeline, name="student_timeline"),
    # The student's season list (issue 13), read-only.
    path("students/<int:pk>/programs/", programs.student_programs, name="student_programs"),
    path("students/<int:pk>/milestones/<slug:key>/", student.student_milestone, name="student_milestone"),
    path("students/<int:pk>/milestones/<slug:key>/comments/", student.student_comment, name="student_comment"),
    path("invitations/", invitations.invitation_list, name="invitations"),
    path("invitations/<int:pk>/accept/", invitations.invitation_accept, name="invitation_accept"),
]
