"""load_pathway: one command loads everything, twice changes nothing, bad data is refused unwritten."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
import yaml
from django.apps import apps
from django.core.management import CommandError, call_command

from milestones.loader import DATA_DIR, load_pathway
from milestones.models import CycleEvent, MatchCycle, MilestoneTemplate, PassingStandard

pytestmark = pytest.mark.django_db
# A mention of Step 2 CS is fine only when the sentence says it is history.
HISTORICAL = ("discontinued", "no longer", "former", "replaced", "ever failed", "suspended")


def history_rows() -> int:
    return sum(
        model.objects.count()
        for model in apps.get_app_config("milestones").get_models()
        if model.__name__.startswith("Historical")
    )


def test_it_loads_both_cycles_the_template_graph_and_the_rules(pathway_data):
    assert set(MatchCycle.objects.values_list("year", flat=True)) >= {2026, 2027}
    rol = CycleEvent.objects.get(cycle__year=2027, key="nrmp_rol_deadline")
    assert rol.projected
    assert CycleEvent.objects.get(cycle__year=2026, key="match_day").status == "confirmed"
    assert MilestoneTemplate.objects.filter(key="ecfmg_exam_reqs_verified").exists()
    assert MilestoneTemplate.objects.get(key="usmle_step2ck").prerequisite_links.count() == 2


def test_running_it_twice_changes_nothing(pathway_data, planned_applicant):
    planned_applicant("NON_US_IMG", needs_visa=True, visa_route="J1")
    before = history_rows()

    report = load_pathway()

    assert (report.created, report.updated, report.deadlines_changed) == (0, 0, 0)
    assert report.unchanged > 200
    assert history_rows() == before


def test_an_edited_file_updates_only_what_changed(pathway_data, tmp_path):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    data = yaml.safe_load((tmp_path / "templates.yaml").read_text())
    data["templates"][0]["title"] = "Check your school (edited)"
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump(data))

    report = load_pathway(tmp_path)

    assert (report.created, report.updated) == (0, 1)
    assert (
        MilestoneTemplate.objects.get(key=data["templates"][0]["key"]).title == "Check your school (edited)"
    )


def edited_data(tmp_path, edit):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    data = yaml.safe_load((tmp_path / "templates.yaml").read_text())
    edit({t["key"]: t for t in data["templates"]})
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


def test_a_prerequisite_loop_in_the_files_is_refused_before_any_write(db, tmp_path):
    folder = edited_data(
        tmp_path, lambda t: t["usmle_step1"]["hard_prerequisites"].append("ecfmg_exam_reqs_verified")
    )

    with pytest.raises(CommandError, match="Prerequisite loop: ecfmg_exam_reqs_verified -> usmle_step1"):
        call_command("load_pathway", data_dir=folder, verbosity=0)
    assert not MilestoneTemplate.objects.exists()
    assert not MatchCycle.objects.exists()


def test_unknown_keys_in_the_files_are_refused(db, tmp_path):
    def edit(templates):
        templates["rank_order_list"]["deadline"]["anchor"] = "nrmp_rol_deadlin"
        templates["interviews"]["soft_prerequisites"].append("no_such_step")

    with pytest.raises(CommandError) as exc:
        call_command("load_pathway", data_dir=edited_data(tmp_path, edit), verbosity=0)
    assert "Unknown cycle event 'nrmp_rol_deadlin'" in str(exc.value)
    assert "unknown prerequisite 'no_such_step'" in str(exc.value)


def test_no_template_presents_step_2_cs_as_a_current_requirement(pathway_data):
    texts = [t.guidance + " " + t.title for t in MilestoneTemplate.objects.all()]
    texts += [str(value) for value in PassingStandard.objects.values_list("note", flat=True)]
    sentences = [s for text in texts for s in re.split(r"(?<=[.!?])\s+", text) if "Step 2 CS" in s]
    current = [s for s in sentences if not any(word in s.lower() for word in HISTORICAL)]

    assert not current
    assert not PassingStandard.objects.filter(exam__icontains="cs").exists()


def test_step1_is_never_scored_after_26_january_2022(pathway_data):
    scored = PassingStandard.objects.filter(exam="step1", pass_fail_only=False)
    assert all(row.effective_to is not None and row.effective_to <= date(2022, 1, 25) for row in scored)
    assert PassingStandard.objects.in_force_on(date(2022, 1, 26)).get(exam="step1").pass_fail_only
    assert "pass/fail" in MilestoneTemplate.objects.get(key="usmle_step1").guidance
