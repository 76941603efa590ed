"""The program directory's face, for every signed-in role (`directory:`): search, program pages, reports
of outdated information, an applicant's own list, and the review queue of advisors and admins."""

from django.urls import path

from . import review, views

app_name = "directory"

urlpatterns = [
    path("programs/", views.program_list, name="program_list"),
    path("programs/mine/", views.my_programs, name="my_programs"),
    path("programs/reports/", review.review_queue, name="review_queue"),
    path("programs/reports/<int:pk>/accept/", review.report_accept, name="report_accept"),
    path("programs/reports/<int:pk>/dismiss/", review.report_dismiss, name="report_dismiss"),
    path("programs/<int:pk>/", views.program_detail_page, name="program_detail"),
    path("programs/<int:pk>/report/", views.program_report, name="program_report"),
    path("programs/<int:pk>/add/", views.program_add, name="program_add"),
    path("programs/<int:pk>/remove/", views.program_remove, name="program_remove"),
]
