"""The admin site's doors: the role alone decides staff rights, and the only login is allauth's (its rate
limits and second factor apply to the admin too)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse

from pathway.models import User

from ..factories import PASSWORD, TOTP_SECRET, UserFactory
from ..mfa import fresh_totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts attempts in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


# --- The role decides staff rights, both ways ---------------------------------------------------


def test_an_admin_made_advisor_loses_staff_and_superuser(root):
    assert (root.is_staff, root.is_superuser) == (True, True)
    root.role = User.Role.ADVISOR
    root.save()
    root.refresh_from_db()
    assert (root.is_staff, root.is_superuser) == (False, False)


def test_saving_only_the_role_still_takes_the_staff_flags_with_it(root):
    root.role = User.Role.APPLICANT
    root.save(update_fields=["role"])
    root.refresh_from_db()
    assert (root.is_staff, root.is_superuser) == (False, False)


def test_an_advisor_made_admin_becomes_staff(dan):
    dan.role = User.Role.ADMIN
    dan.save()
    dan.refresh_from_db()
    assert dan.is_staff


def test_staff_flags_on_a_non_admin_are_dropped_on_save(amira):
    amira.is_staff = amira.is_superuser = True
    amira.save()
    amira.refresh_from_db()
    assert (amira.is_staff, amira.is_superuser) == (False, False)


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_the_database_refuses_staff_rights_without_the_admin_role(ben, flag):
    # A bulk update skips save(); the constraint still holds.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=ben.pk).update(**{flag: True})


def test_the_database_refuses_an_admin_without_staff(root):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=root.pk).update(is_staff=False)


def test_demoting_an_admin_in_the_admin_site_shuts_them_out_of_it(client, root):
    other = UserFactory(admin=True, email="other-admin@example.com")
    client.force_login(root)
    url = reverse("admin:pathway_user_change", args=[other.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(role="advisor", email=other.email, date_joined_0="2026-01-01", date_joined_1="00:00:00")
    data.update({"advisor_assignments-TOTAL_FORMS": 0, "advisor_assignments-INITIAL_FORMS": 0})
    data.pop("groups", None), data.pop("user_permissions", None), data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    other.refresh_from_db()
    assert (other.role, other.is_staff, other.is_superuser) == ("advisor", False, False)
    client.force_login(other)
    assert client.get(reverse("admin:index")).status_code == 302  # to the login page, not in


# --- One login, one limit -----------------------------------------------------------------------------


def test_the_admin_login_page_sends_to_the_one_login(client):
    response = client.get(reverse("admin:login"), {"next": "/admin/pathway/user/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/pathway/user/"


def test_the_admin_login_page_checks_no_password(client, root):
    response = client.post(reverse("admin:login"), {"username": root.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_thirty_wrong_passwords_at_the_admin_login_then_the_right_one_does_not_get_in(client, root):
    for attempt in range(30):
        client.post(reverse("admin:login"), {"username": root.email, "password": f"guess-{attempt}"})
    client.post(reverse("admin:login"), {"username": root.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_one_login_locks_out_after_five_wrong_passwords(client, root):
    for attempt in range(5):
        client.post(reverse("account_login"), {"login": root.email, "password": f"guess-{attempt}"})
    response = client.post(reverse("account_login"), {"login": root.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_admin_reaches_the_admin_through_the_one_login_and_a_second_factor(client, root):
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": root.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not in until the second factor
    response = client.post(reverse("mfa_authenticate"), {"code": fresh_totp_code(TOTP_SECRET)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_logged_in_non_admin_at_the_admin_login_page_gets_404_not_a_redirect_loop(client, amira):
    client.force_login(amira)
    assert client.get(reverse("admin:login"), {"next": "/admin/"}).status_code == 404
