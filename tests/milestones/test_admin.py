"""Admin: validation refusals on the template graph, event edits recompute deadlines, copy-cycle action."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from milestones.models import CycleEvent, MatchCycle, MilestoneTemplate
from pathway.lib.times import ET

pytestmark = pytest.mark.django_db
PREFIX = "prerequisite_links"
TEXT_FIELDS = [
    "key", "title", "phase", "order", "guidance", "visa_route", "deadline_kind", "deadline_anchor",
    "deadline_offset_days", "evidence", "exam", "source_url",
]  # fmt: skip


@pytest.fixture
def admin_client(client, root, pathway_data):
    client.force_login(root)
    return client


def template_form(template, *, add_requires=(), **changes):
    """The change form of `template` as a browser would post it, with `changes` and new prerequisites."""
    data = {name: getattr(template, name) for name in TEXT_FIELDS}
    data.update(
        applies_to=json.dumps(template.applies_to), reminder_lead_days=json.dumps(template.reminder_lead_days)
    )
    for flag in ("optional", "is_active"):
        if getattr(template, flag):
            data[flag] = "on"
    links = list(template.prerequisite_links.all())
    for i, link in enumerate(links):
        data.update({f"{PREFIX}-{i}-id": link.pk, f"{PREFIX}-{i}-template": template.pk})
        data.update({f"{PREFIX}-{i}-requires": link.requires_id, f"{PREFIX}-{i}-kind": link.kind})
    for j, requires in enumerate(add_requires, start=len(links)):
        data.update({f"{PREFIX}-{j}-template": template.pk, f"{PREFIX}-{j}-requires": requires.pk})
        data[f"{PREFIX}-{j}-kind"] = "hard"
    data.update(
        {f"{PREFIX}-TOTAL_FORMS": len(links) + len(add_requires), f"{PREFIX}-INITIAL_FORMS": len(links)}
    )
    data.update({f"{PREFIX}-MIN_NUM_FORMS": 0, f"{PREFIX}-MAX_NUM_FORMS": 1000})
    data.update({key: value for key, value in changes.items() if value is not None})
    return {key: ("" if value is None else value) for key, value in data.items()}


def confirmed_post(client, url, data):
    """Post `data`; where the admin shows the effect of a date change first, press "Confirm and save"."""
    response = client.post(url, data)
    token = re.search(r'name="_confirm_deadlines" value="([^"]+)"', response.content.decode())
    if response.status_code == 200 and token:
        response = client.post(url, {**data, "_confirm_deadlines": token.group(1)})
    return response


def post_template(client, template, **kwargs):
    url = reverse("admin:milestones_milestonetemplate_change", args=[template.pk])
    response = confirmed_post(client, url, template_form(template, **kwargs))
    return response, html.unescape(response.content.decode())


def test_an_unchanged_template_saves(admin_client):
    template = MilestoneTemplate.objects.get(key="rank_order_list")
    response, _ = post_template(admin_client, template)
    assert response.status_code == 302


def test_a_prerequisite_loop_is_refused_and_named(admin_client):
    step1 = MilestoneTemplate.objects.get(key="usmle_step1")
    verified = MilestoneTemplate.objects.get(key="ecfmg_exam_reqs_verified")

    response, page = post_template(admin_client, step1, add_requires=[verified])

    assert response.status_code == 200
    assert (
        "These prerequisites make a loop: ecfmg_exam_reqs_verified -> usmle_step1 -> ecfmg_exam_reqs_verified"
        in page
    )
    assert not step1.prerequisite_links.filter(requires=verified).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"deadline_anchor": "no_such_event"}, "Unknown cycle event 'no_such_event'"),
        ({"deadline_kind": "milestone", "deadline_anchor": "no_such_template"}, "Unknown milestone template"),
        ({"deadline_kind": "applicant", "deadline_anchor": "birthday"}, "Unknown applicant date 'birthday'"),
        ({"deadline_offset_days": 1200}, "more than three years"),
        ({"deadline_kind": "none", "deadline_offset_days": 5}, "cannot have an anchor or an offset"),
        (
            {"deadline_kind": "milestone", "deadline_anchor": "rank_order_list"},
            "rank_order_list -> rank_order_list",
        ),
    ],
)
def test_senseless_deadline_rules_are_refused(admin_client, changes, message):
    template = MilestoneTemplate.objects.get(key="rank_order_list")

    response, page = post_template(admin_client, template, **changes)

    assert response.status_code == 200
    assert message in page
    template.refresh_from_db()
    assert (template.deadline_kind, template.deadline_anchor, template.deadline_offset_days) == (
        "event",
        "nrmp_rol_deadline",
        0,
    )


def test_a_template_rule_change_recomputes_deadlines_and_is_in_the_history(
    admin_client, planned_applicant, milestone_of
):
    user = planned_applicant("US_MD")
    template = MilestoneTemplate.objects.get(key="rank_order_list")

    response, _ = post_template(admin_client, template, deadline_offset_days=-2)

    assert response.status_code == 302
    assert milestone_of(user, "rank_order_list").due_at.astimezone(ET) == datetime(2027, 3, 1, 21, tzinfo=ET)
    assert template.history.first().deadline_offset_days == -2


def cycle_form(cycle, **at_changes):
    """The cycle change form; event times are typed on the US Eastern clock."""
    events = list(cycle.events.all())
    data = {"year": cycle.year, "name": cycle.name}
    for i, event in enumerate(events):
        local = at_changes.get(event.key, event.at.astimezone(ET))
        data.update({f"events-{i}-id": event.pk, f"events-{i}-cycle": cycle.pk, f"events-{i}-key": event.key})
        data.update({f"events-{i}-title": event.title, f"events-{i}-status": event.status})
        data.update({f"events-{i}-source_url": event.source_url, f"events-{i}-note": event.note})
        data.update(
            {f"events-{i}-at_0": local.strftime("%Y-%m-%d"), f"events-{i}-at_1": local.strftime("%H:%M:%S")}
        )
    data.update({"events-TOTAL_FORMS": len(events), "events-INITIAL_FORMS": len(events)})
    data.update({"events-MIN_NUM_FORMS": 0, "events-MAX_NUM_FORMS": 1000})
    return data


def test_moving_an_event_in_the_admin_moves_the_deadlines(
    admin_client, cycle_2027, planned_applicant, milestone_of
):
    user = planned_applicant("US_IMG")
    url = reverse("admin:milestones_matchcycle_change", args=[cycle_2027.pk])

    response = confirmed_post(
        admin_client, url, cycle_form(cycle_2027, nrmp_rol_deadline=datetime(2027, 2, 24, 21, tzinfo=ET))
    )

    assert response.status_code == 302
    rol = CycleEvent.objects.get(cycle=cycle_2027, key="nrmp_rol_deadline")
    assert rol.at == datetime(2027, 2, 25, 2, tzinfo=UTC)  # typed as 9 p.m. ET
    assert milestone_of(user, "rank_order_list").due_at == rol.at
    assert milestone_of(user, "usmle_step2ck").due_at == rol.at
    assert rol.history.count() == 2


def test_copy_cycle_to_next_year_shifts_by_the_yearly_pattern(admin_client, cycle_2027):
    url = reverse("admin:milestones_matchcycle_changelist")
    action = {"action": "copy_to_next_year", "_selected_action": [cycle_2027.pk]}
    # The shipped data already projects 2028; remove it so the action has something to create.
    MatchCycle.objects.filter(year=2028).delete()

    response = admin_client.post(url, action, follow=True)

    cycle = MatchCycle.objects.get(year=2028)
    events = {e.key: e.at.astimezone(ET).strftime("%a %Y-%m-%d %H:%M") for e in cycle.events.all()}
    assert events["match_day"] == "Fri 2028-03-17 12:00"  # third Friday of March
    assert events["nrmp_rol_deadline"] == "Wed 2028-03-01 21:00"  # Wednesday 16 days before
    assert events["eras_submit_open"] == "Wed 2027-09-01 09:00"  # first Wednesday of September
    assert events["residency_start"] == "Sat 2028-07-01 00:00"  # fixed date
    assert events["conrad30_fy_open"] == "Fri 2027-10-01 00:00"
    assert events["eras_season_open"] == "Wed 2027-06-09 09:00"  # first Wednesday on or after 3 June (D14)
    assert cycle.events.count() == cycle_2027.events.count()
    assert set(cycle.events.values_list("status", flat=True)) == {"projected"}
    assert "Created the 2028 Match" in response.content.decode()

    again = admin_client.post(url, action, follow=True)
    assert "The 2028 cycle already exists" in again.content.decode()
    assert MatchCycle.objects.filter(year=2028).count() == 1
    assert MatchCycle.objects.get(year=2028).events.count() == cycle_2027.events.count()


def test_admin_pages_render(admin_client, planned_applicant, milestone_of):
    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    for name in ["matchcycle", "milestonetemplate", "passingstandard", "attemptlimit", "oetthreshold",
                 "scorereleaserule", "erasfeeschedule", "signalallowance", "applicantprofile", "milestone"]:  # fmt: skip
        assert admin_client.get(reverse(f"admin:milestones_{name}_changelist")).status_code == 200
    ms = milestone_of(user, "usmle_step1")
    assert admin_client.get(reverse("admin:milestones_milestone_change", args=[ms.pk])).status_code == 200
    cycle = MatchCycle.objects.get(year=2027)
    assert admin_client.get(reverse("admin:milestones_matchcycle_change", args=[cycle.pk])).status_code == 200
    template = MilestoneTemplate.objects.get(key="usmle_step1")
    history = admin_client.get(reverse("admin:milestones_milestonetemplate_history", args=[template.pk]))
    assert history.status_code == 200


def test_saving_a_profile_in_the_admin_replans_the_pathway(admin_client, root, planned_applicant, milestone_of):
    from milestones.models import ApplicantProfile

    user = planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    profile = ApplicantProfile.objects.get(user=user)
    data = {
        "applicant_type": profile.applicant_type,
        "graduation_date": profile.graduation_date.isoformat(),
        "needs_visa": "on",
        "visa_route": "H1B",
        "target_cycle": profile.target_cycle_id,
        "specialties": json.dumps(profile.specialties),
        "time_zone": profile.time_zone,
        "opted_in": json.dumps(profile.opted_in),
        "email_reminders": "on",
        "reminder_lead_days": "",
    }
    response = admin_client.post(reverse("admin:milestones_applicantprofile_change", args=[profile.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not milestone_of(user, "visa_j1").is_applicable
    assert milestone_of(user, "visa_h1b").is_applicable
    assert ApplicantProfile.history.filter(user_id=user.pk).latest().history_user == root
