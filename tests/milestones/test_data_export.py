"""Your data: everything the applicant entered, as JSON and as a spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.urls import reverse

from milestones.models import ExamAttempt, Milestone, OETResult, USCEEntry
from milestones.services import add_document
from pathway.web.applicant.your_data import safe_cell

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


@pytest.fixture
def amira_with_data(amira_profile):
    amira = amira_profile.user
    mine = {m.template.key: m for m in Milestone.objects.filter(applicant=amira).select_related("template")}
    ExamAttempt.objects.create(
        milestone=mine["usmle_step1"], exam="step1", test_date=date(2026, 1, 5), passed=True
    )
    OETResult.objects.create(
        milestone=mine["oet_medicine"],
        test_date=date(2026, 2, 1),
        listening=350,
        reading=350,
        speaking=350,
        writing=350,
    )
    USCEEntry.objects.create(
        milestone=mine["usce"],
        kind="externship",
        specialty="IM",
        site="@Queens",
        start_date=date(2026, 3, 1),
        end_date=date(2026, 5, 31),
    )
    add_document(
        milestone=mine["ecfmg_registration"], label='=HYPERLINK("http://evil")', reference="+1-555", by=amira
    )
    Milestone.objects.filter(pk=mine["usmle_step1"].pk).update(note="-2 weeks of review")
    return amira


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (None, ""),
        (True, "yes"),
        (["a", "b"], "a, b"),
    ],
)
def test_cells_that_look_like_formulas_are_escaped(value, cell):
    assert safe_cell(value) == cell


def test_the_json_export_holds_everything_entered(client, amira_with_data, carla):
    client.force_login(amira_with_data)
    response = client.get(reverse("applicant:export_json"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="pathway-export-2026-11-21.json"'
    data = json.loads(response.content)
    assert data["account"]["email"] == "amira@example.com"
    assert data["profile"]["visa_route"] == "J1" and data["profile"]["target_cycle"] == 2027
    by_key = {m["key"]: m for m in data["milestones"]}
    assert by_key["usmle_step1"]["exam_attempts"][0]["test_date"] == "2026-01-05"
    assert by_key["usmle_step1"]["note"] == "-2 weeks of review"
    assert by_key["oet_medicine"]["oet_results"][0]["listening"] == 350
    assert by_key["usce"]["usce_entries"][0]["site"] == "@Queens"
    assert by_key["ecfmg_registration"]["documents"][0]["reference"] == "+1-555"
    assert by_key["ecfmg_registration"]["status"] == "in_progress"
    assert "carla" not in response.content.decode()


def test_the_csv_export_is_an_attachment_with_escaped_cells(client, amira_with_data):
    client.force_login(amira_with_data)
    response = client.get(reverse("applicant:export_csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pathway-export-2026-11-21.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'+1-555" in cells and "'-2 weeks of review" in cells and "'@Queens" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    titles = [row[0] for row in rows if len(row) == 1]
    assert titles == [
        "Account",
        "Profile",
        "Milestones",
        "Exam attempts",
        "Oet results",
        "Documents",
        "Usce entries",
        "Advisor comments",
        "Season applications",  # the application season (issue 13)
        "Season letters",
        "Interview criteria",
        "Season payments",
    ]


def test_the_export_is_for_applicants_only(client, ben):
    client.force_login(ben)
    assert client.get(reverse("applicant:export_json")).status_code == 404
    assert client.get(reverse("applicant:export_csv")).status_code == 404
