"""Before an edit of a cycle event or a template's deadline rule is saved, the admin sees its effect and
confirms it; list fields and broken constraints get sentences an admin can act on."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from milestones.deadlines import EventDate, Rule
from milestones.models import CycleEvent, Milestone, MilestoneTemplate
from milestones.services import preview_deadline_changes
from pathway.lib.times import ET

from ..factories import PlannedProfileFactory
from .admin_forms import form_fields

pytestmark = pytest.mark.django_db
CONFIRM = "_confirm_deadlines"


@pytest.fixture
def admin_client(client, root, pathway_data):
    client.force_login(root)
    return client


@pytest.fixture
def applicants(cycle_2027):
    return [
        PlannedProfileFactory(applicant_type="US_IMG", user__email="ana@example.com").user,
        PlannedProfileFactory(
            applicant_type="US_MD", user__email="bo@example.com", graduation_date="2027-05-15"
        ).user,
    ]


def _due(user, key):
    return Milestone.objects.get(applicant=user, template__key=key).due_at


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _token(page: str) -> str:
    match = re.search(rf'name="{CONFIRM}" value="([^"]+)"', page)
    assert match, "no Confirm and save button on the page"
    return match.group(1)


# --- The engine: the same computation as the recompute, nothing written --------------------------------


def test_the_preview_counts_the_moves_and_writes_nothing(cycle_2027, applicants):
    events = {
        e.key: EventDate(e.at, e.status == "projected") for e in CycleEvent.objects.filter(cycle=cycle_2027)
    }
    old = events["nrmp_rol_deadline"]
    events["nrmp_rol_deadline"] = EventDate(old.at.replace(day=old.at.day - 1), old.projected)
    before = {u.pk: _due(u, "rank_order_list") for u in applicants}

    preview = preview_deadline_changes(cycle=cycle_2027, events=events)

    assert preview.applicants == 2
    moved = Milestone.objects.filter(
        applicant__in=applicants, is_applicable=True, due_at=old.at
    ).count()  # everything hanging from the ROL deadline with no offset
    assert preview.milestones >= moved >= 2
    assert ("1 day earlier", preview.milestones) in preview.shifts
    rol_title = MilestoneTemplate.objects.get(key="rank_order_list").title
    assert rol_title in {e.milestone for e in preview.examples}
    assert {e.applicant for e in preview.examples} <= {"ana@example.com", "bo@example.com"}
    assert all(e.shift == "1 day earlier" for e in preview.examples)
    assert {u.pk: _due(u, "rank_order_list") for u in applicants} == before  # nothing written


def test_a_template_rule_preview_follows_the_chain(cycle_2027, applicants):
    preview = preview_deadline_changes(
        template_key="rank_order_list", rule=Rule("event", "nrmp_rol_deadline", -7)
    )
    assert preview.applicants == 2
    assert preview.shifts[0][0] == "7 days earlier"
    assert (
        _due(applicants[0], "rank_order_list")
        == CycleEvent.objects.get(cycle=cycle_2027, key="nrmp_rol_deadline").at
    )


# --- The admin: preview, then confirm ---------------------------------------------------------------------


def _cycle_post(client, cycle, **moves):
    url = reverse("admin:milestones_matchcycle_change", args=[cycle.pk])
    data = form_fields(client.get(url).content.decode())
    for i in range(int(data["events-TOTAL_FORMS"])):
        key = data[f"events-{i}-key"]
        if key in moves:
            local = moves[key].astimezone(ET)
            data[f"events-{i}-at_0"], data[f"events-{i}-at_1"] = (
                local.strftime("%Y-%m-%d"),
                local.strftime("%H:%M:%S"),
            )
    return url, data


def test_moving_an_event_shows_its_effect_before_saving(admin_client, cycle_2027, applicants):
    rol = CycleEvent.objects.get(cycle=cycle_2027, key="nrmp_rol_deadline")
    before = _due(applicants[0], "rank_order_list")
    url, data = _cycle_post(admin_client, cycle_2027, nrmp_rol_deadline=datetime(2027, 2, 24, 21, tzinfo=ET))

    response = admin_client.post(url, data)

    assert response.status_code == 200
    page = _page(response)
    assert "Confirm and save" in page
    assert "2 applicants" in page
    assert "ana@example.com" in page or "bo@example.com" in page
    assert re.search(r"\d+ days? earlier", page)
    rol.refresh_from_db()
    assert rol.at != datetime(2027, 2, 25, 2, tzinfo=UTC)  # not saved yet
    assert _due(applicants[0], "rank_order_list") == before

    response = admin_client.post(url, data | {CONFIRM: _token(page)})

    assert response.status_code == 302
    rol.refresh_from_db()
    assert rol.at == datetime(2027, 2, 25, 2, tzinfo=UTC)
    assert _due(applicants[0], "rank_order_list") == rol.at


def test_a_confirmation_is_for_the_change_previewed_only(admin_client, cycle_2027, applicants):
    url, data = _cycle_post(admin_client, cycle_2027, nrmp_rol_deadline=datetime(2027, 2, 24, 21, tzinfo=ET))
    token = _token(_page(admin_client.post(url, data)))
    # The admin changes the date again after reading the preview: the new date is previewed too.
    _, other = _cycle_post(admin_client, cycle_2027, nrmp_rol_deadline=datetime(2027, 2, 20, 21, tzinfo=ET))

    response = admin_client.post(url, other | {CONFIRM: token})

    assert response.status_code == 200
    assert "Confirm and save" in _page(response)
    assert CycleEvent.objects.get(cycle=cycle_2027, key="nrmp_rol_deadline").at != datetime(
        2027, 2, 21, 2, tzinfo=UTC
    )


def test_a_template_rule_edit_shows_its_effect_before_saving(admin_client, applicants):
    template = MilestoneTemplate.objects.get(key="rank_order_list")
    url = reverse("admin:milestones_milestonetemplate_change", args=[template.pk])
    data = form_fields(admin_client.get(url).content.decode()) | {"deadline_offset_days": "-2"}

    response = admin_client.post(url, data)

    page = _page(response)
    assert response.status_code == 200
    assert "2 days earlier" in page and "2 applicants" in page
    template.refresh_from_db()
    assert template.deadline_offset_days == 0

    assert admin_client.post(url, data | {CONFIRM: _token(page)}).status_code == 302
    template.refresh_from_db()
    assert template.deadline_offset_days == -2


# --- List fields and constraints ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reminder_lead_days", '[30, -5, "x"]', "“x” is not a whole number of days"),
        ("reminder_lead_days", "[30, -5]", "-5 is out of range: use 0 to 365 days"),
        ("reminder_lead_days", '"30"', "a list of whole numbers of days"),
        ("applies_to", '["US_IMG", "MARTIAN"]', "Unknown applicant type “MARTIAN”"),
        ("applies_to", '"US_IMG"', "a list of applicant types"),
    ],
)
def test_list_fields_are_checked_with_clear_messages(admin_client, field, value, message):
    template = MilestoneTemplate.objects.get(key="usmle_step1")
    stored = getattr(template, field)
    url = reverse("admin:milestones_milestonetemplate_change", args=[template.pk])
    data = form_fields(admin_client.get(url).content.decode()) | {field: value}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert message in _page(response)
    template.refresh_from_db()
    assert getattr(template, field) == stored


def test_a_template_requiring_itself_reads_as_a_sentence(admin_client):
    template = MilestoneTemplate.objects.get(key="usmle_step1")
    url = reverse("admin:milestones_milestonetemplate_change", args=[template.pk])
    data = form_fields(admin_client.get(url).content.decode())
    i = int(data["prerequisite_links-TOTAL_FORMS"])
    data |= {
        f"prerequisite_links-{i}-template": str(template.pk),
        f"prerequisite_links-{i}-requires": str(template.pk),
        f"prerequisite_links-{i}-kind": "hard",
        "prerequisite_links-TOTAL_FORMS": str(i + 1),
    }

    response = admin_client.post(url, data)

    page = _page(response)
    assert response.status_code == 200
    assert "is violated" not in page
    assert "A milestone cannot require itself" in page
    assert not template.prerequisite_links.filter(requires=template).exists()


def test_a_profiles_lead_days_are_checked_in_the_admin(admin_client, applicants):
    from milestones.models import ApplicantProfile

    profile = ApplicantProfile.objects.get(user=applicants[0])
    url = reverse("admin:milestones_applicantprofile_change", args=[profile.pk])
    data = form_fields(admin_client.get(url).content.decode()) | {"reminder_lead_days": '[30, -5, "x"]'}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "-5 is out of range: use 0 to 365 days. “x” is not a whole number of days." in _page(response)
    profile.refresh_from_db()
    assert profile.reminder_lead_days is None


def test_reverting_a_deadline_rule_from_the_history_moves_the_deadlines_back(admin_client, applicants):
    template = MilestoneTemplate.objects.get(key="rank_order_list")
    before = _due(applicants[0], "rank_order_list")
    original = template.history.latest().history_id
    url = reverse("admin:milestones_milestonetemplate_change", args=[template.pk])
    data = form_fields(admin_client.get(url).content.decode()) | {"deadline_offset_days": "-2"}
    token = _token(_page(admin_client.post(url, data)))
    assert admin_client.post(url, data | {CONFIRM: token}).status_code == 302
    assert _due(applicants[0], "rank_order_list") != before

    revert = reverse("admin:milestones_milestonetemplate_simple_history", args=[template.pk, original])
    response = admin_client.post(revert, form_fields(admin_client.get(revert).content.decode()) | {"_save": "Revert"})

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.deadline_offset_days == 0
    assert _due(applicants[0], "rank_order_list") == before


def test_deleting_an_event_shows_the_deadlines_it_takes_away(admin_client, cycle_2027, applicants):
    url, data = _cycle_post(admin_client, cycle_2027)
    row = next(k.removesuffix("-key") for k, v in data.items() if k.endswith("-key") and v == "nrmp_rol_deadline")

    response = admin_client.post(url, data | {f"{row}-DELETE": "on"})

    page = _page(response)
    assert response.status_code == 200
    assert "loses its deadline" in page and "2 applicants" in page
    assert CycleEvent.objects.filter(cycle=cycle_2027, key="nrmp_rol_deadline").exists()
