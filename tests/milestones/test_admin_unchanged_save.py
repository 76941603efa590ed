"""Saving an admin change form exactly as it was shown changes nothing.

Each form is read off its rendered page and posted back, as an admin pressing "Save" would; then every
row of the engine and account tables (and every applicant's deadlines) must be as before. This catches
a form that shows a value on one clock and reads it on another (the cycle events were shown in UTC and
read in US Eastern time, so each save moved every event 4-5 hours later and every deadline with it).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import reverse

from milestones.models import PageVersion

from ..factories import PlannedProfileFactory, UserFactory
from .admin_forms import form_fields

pytestmark = pytest.mark.django_db

APPS = ("milestones", "pathway")


def _registered():
    return sorted(
        (m._meta.label for m in admin.site._registry if m._meta.app_label in APPS),
    )


def _snapshot() -> dict[str, list[dict]]:
    """Every row of every concrete model of our apps, without auto_now stamps (saved is not changed)."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in APPS or model.__name__.startswith("Historical"):
            continue
        if model is PageVersion:  # the page cache's counters: a needless bump only rebuilds a page
            continue
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if not (isinstance(f, models.DateTimeField) and f.auto_now)
        ]
        state[model._meta.label] = list(model.objects.order_by("pk").values(*names))
    return state


@pytest.fixture
def world(root, cycle_2027):
    advisor = UserFactory(advisor=True)
    applicant = PlannedProfileFactory(visa_route="J1", specialties=["Internal Medicine"]).user
    from pathway.models import AdvisorAssignment

    AdvisorAssignment.objects.create(advisor=advisor, applicant=applicant, accepted_at=applicant.date_joined)
    PlannedProfileFactory(applicant_type="US_MD", graduation_date="2027-05-15")
    return {"applicant": applicant}


def _object_for(model, world):
    from milestones.models import MatchCycle, MilestoneTemplate

    if model is MatchCycle:
        return MatchCycle.objects.get(year=2027)
    if model is MilestoneTemplate:
        # One with prerequisites, reminder lead days and an event-anchored deadline.
        return MilestoneTemplate.objects.filter(prerequisite_links__isnull=False).order_by("key").first()
    if model._meta.label == "pathway.User":
        return world["applicant"]
    return model.objects.order_by("pk").first()


@pytest.mark.parametrize("label", _registered())
def test_saving_an_admin_form_unchanged_changes_nothing(client, root, world, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    obj = _object_for(model, world)
    if obj is None:
        pytest.skip(f"no {label} rows in the shipped data")
    client.force_login(root)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    if not model_admin.has_change_permission(page.wsgi_request, obj):
        pytest.skip(f"{label} is read-only in the admin")
    before = _snapshot()

    data = form_fields(page.content.decode())
    data["_save"] = "Save"
    response = client.post(url, data)

    assert response.status_code == 302, _errors(response)
    assert _snapshot() == before
    shown = client.get(response["Location"]).content.decode()
    assert "Deadlines recomputed" not in shown


def _errors(response) -> str:
    context = response.context or {}
    errors = context.get("errors")
    formsets = [fs.errors for fs in context.get("inline_admin_formsets", [])]
    return f"{errors} {formsets}"


def test_saving_the_cycle_twice_keeps_event_times(client, root, world, cycle_2027):
    """The reported case: two saves in a row, nothing typed, and the event times do not move."""
    client.force_login(root)
    url = reverse("admin:milestones_matchcycle_change", args=[cycle_2027.pk])
    before = dict(cycle_2027.events.values_list("key", "at"))
    for _ in range(2):
        data = form_fields(client.get(url).content.decode())
        assert client.post(url, data | {"_continue": "Save"}).status_code == 302
    assert dict(cycle_2027.events.values_list("key", "at")) == before
