"""The advisor's face: the students assigned to them, read-only (`advisor:`)."""

from django.urls import path

from . import invitations, student, views

app_name = "advisor"

urlpatterns = [
    path("students/", views.student_list, name="student_list"),
    path("students/<int:pk>/", student.student_detail, name="student_detail"),
    path("students/<int:pk>/timeline/", student.student_timeline, name="student_timeline"),
    path("students/<int:pk>/milestones/<slug:key>/", student.student_milestone, name="student_milestone"),
    path("students/<int:pk>/milestones/<slug:key>/comments/", student.student_comment, name="student_comment"),
    path("invitations/", invitations.invitation_list, name="invitations"),
    path("invitations/<int:pk>/accept/", invitations.invitation_accept, name="invitation_accept"),
]
