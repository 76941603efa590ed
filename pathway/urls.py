"""The root URLconf: one namespace per web face (`applicant:`, `advisor:`, `directory:`, `api:`), plus accounts and admin."""

from django.contrib import admin
from django.urls import include, path

from pathway.web import account, site
from pathway.web.api import api

urlpatterns = [
    path("", site.home, name="home"),
    path("healthz", site.healthz, name="healthz"),
    path("", include("pathway.web.applicant.urls")),
    path("", include("pathway.web.advisor.urls")),
    path("", include("pathway.web.directory.urls")),
    path("api/v1/", api.urls),
    path("accounts/security/", account.security, name="account_security"),
    path("accounts/sign-out-everywhere/", account.sign_out_everywhere, name="sign_out_everywhere"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler404 = site.not_found
