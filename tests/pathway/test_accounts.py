"""Accounts through django-allauth: applicants sign up themselves; everyone logs in by email."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from pathway.models import User

pytestmark = pytest.mark.django_db


def test_it_signs_up_an_applicant(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.role == User.Role.APPLICANT
    assert not user.is_staff


def test_sign_up_cannot_choose_a_role(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "sneaky@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            "role": "admin",
        },
    )
    assert User.objects.get(email="sneaky@example.com").role == User.Role.APPLICANT


def test_sign_up_refuses_a_weak_password_with_a_message(client):
    response = client.post(
        "/accounts/signup/", {"email": "weak@example.com", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@example.com").exists()
    assert b"too short" in response.content


def test_it_logs_in_by_email(client, amira):
    response = client.post(
        "/accounts/login/", {"login": "amira@example.com", "password": "pw-for-tests-only"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # home sends the applicant to their dashboard


def test_a_wrong_password_is_refused(client, amira):
    response = client.post("/accounts/login/", {"login": "amira@example.com", "password": "nope"})
    assert response.status_code == 200
    assert b"not correct" in response.content or b"incorrect" in response.content


def test_it_resets_a_password_by_email(client, amira):
    response = client.post("/accounts/password/reset/", {"email": "amira@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # allauth stashes the key in the session, then redirects
    response = client.post(
        form_url, {"password1": "brand-new-passphrase-7", "password2": "brand-new-passphrase-7"}
    )
    assert response.status_code == 302
    amira.refresh_from_db()
    assert amira.check_password("brand-new-passphrase-7")


def test_it_logs_out_with_a_post(client, amira):
    client.force_login(amira)
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_admin_role_implies_staff(db):
    user = User.objects.create_user(email="boss@example.com", password="x", role=User.Role.ADMIN)
    assert user.is_staff
