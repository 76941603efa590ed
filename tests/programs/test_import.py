"""The CSV import on PostgreSQL: all or nothing with every bad row named by line and field, idempotent by
program code, provenance per field, and the export's formula escaping; the admin's two steps."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from programs.exporter import export_programs_csv
from programs.importer import REQUIRED_COLUMNS, import_programs
from programs.models import Institution, Program, ProgramImport, RequirementClaim

pytestmark = pytest.mark.django_db

GOOD = {
    "program_code": "9999140C0", "acgme_id": "1409999001", "name": "Fictional Owlglass Internal Medicine",
    "eras_name": "Owlglass IM Residency - Demo", "institution": "Fictional Owlglass Hospital",
    "city": "Owlglass", "state": "NJ", "specialty": "140", "track": "C", "positions": "12",
    "visa_j1": "yes", "visa_h1b": "no", "max_years_since_graduation": "5", "min_step2ck": "",
    "max_attempts": "1", "usce_months_required": "none", "step3_before_ranking": "no",
    "source_url": "https://example.org/owlglass", "observed_on": "2026-11-01",
}


def csv_text(*rows, columns=REQUIRED_COLUMNS):
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()


def counts():
    return (
        Program.objects.count(), Program.history.count(), RequirementClaim.objects.count(),
        RequirementClaim.history.count(), Institution.objects.count(),
    )


def test_a_good_file_imports_with_provenance_per_claim(postgres, specialties):
    result = import_programs(text=csv_text(GOOD), dry_run=False)
    assert result.ok and result.created == 1
    program = Program.objects.get(nrmp_code="9999140C0")
    assert (program.program_type, program.track, program.specialty.acgme_code) == ("C", "0", "140")
    claims = {c.requirement: c for c in program.claims.all()}
    # empty min_step2ck = unknown: no claim made up for it
    assert set(claims) == {"visa_j1", "visa_h1b", "max_years_since_graduation", "max_attempts",
                           "usce_months_required", "step3_before_ranking"}
    assert claims["usce_months_required"].state == "none"
    assert all(c.source_url == "https://example.org/owlglass" and str(c.observed_on) == "2026-11-01"
               and c.source_kind == "import" for c in claims.values())


def test_a_good_file_imported_twice_changes_nothing_the_second_time(postgres, specialties):
    other = GOOD | {"program_code": "9999120C0", "specialty": "Family Medicine", "name": "Fictional FM"}
    text = csv_text(GOOD, other)
    assert import_programs(text=text, dry_run=False).created == 2
    before = counts()

    again = import_programs(text=text, dry_run=False)

    assert again.ok and (again.created, again.updated, again.unchanged, again.claims_changed) == (0, 0, 2, 0)
    assert counts() == before


def test_one_bad_row_imports_nothing_and_every_bad_row_is_named(postgres, specialties):
    rows = [
        GOOD,
        GOOD | {"program_code": "9999140X0", "visa_j1": "maybe"},  # line 3: two bad fields
        GOOD | {"program_code": "9999120C0", "specialty": "140"},  # line 4: code says 120
        GOOD | {"program_code": "9999140C1", "observed_on": "30/11/2026", "state": "ZZ"},  # line 5
        GOOD | {"program_code": "9999140C2", "name": "x" * 201, "source_url": "not a url"},  # line 6
        GOOD,  # line 7: the same code again
    ]
    result = import_programs(text=csv_text(*rows), dry_run=False)

    found = {(e.line, e.field) for e in result.errors}
    assert found == {
        (3, "program_code"), (3, "visa_j1"), (4, "specialty"), (5, "observed_on"), (5, "state"),
        (6, "name"), (6, "source_url"), (7, "program_code"),
    }
    assert "line 3, visa_j1: 'maybe' is not yes or no" in [str(e).split(" (")[0] for e in result.errors]
    assert counts() == (0, 0, 0, 0, 0)


def test_a_dry_run_counts_exactly_and_saves_nothing(postgres, specialties):
    result = import_programs(text=csv_text(GOOD), dry_run=True)
    assert result.ok and result.created == 1 and result.claims_changed == 6
    assert counts() == (0, 0, 0, 0, 0)


def test_an_older_file_never_overwrites_a_newer_claim(postgres, specialties):
    import_programs(text=csv_text(GOOD | {"observed_on": "2026-11-10"}), dry_run=False)
    result = import_programs(text=csv_text(GOOD | {"visa_j1": "no", "observed_on": "2026-10-01"}), dry_run=False)
    assert result.ok and result.claims_kept_newer == 6
    assert RequirementClaim.objects.get(requirement="visa_j1").value_bool is True


@pytest.mark.parametrize("text, field", [("", "header"), ("program_code,name\n1,2\n", "header"),
                                         (csv_text(columns=REQUIRED_COLUMNS), "row")])
def test_empty_and_headless_files_are_refused(postgres, specialties, text, field):
    result = import_programs(text=text, dry_run=False)
    assert [e.field for e in result.errors] == [field]


def test_a_formula_comes_back_escaped_in_the_export_and_imports_back_unchanged(postgres, specialties):
    rows = [GOOD | {"name": "=HYPERLINK(\"http://evil\")"}, GOOD | {"program_code": "9999140C1", "eras_name": "@SUM(1)",
            "name": "+1", "city": "-2"}, GOOD | {"program_code": "9999140C2"}]
    import_programs(text=csv_text(*rows), dry_run=False)
    # The importer trims cells, so a leading tab or CR comes from another way in (the admin); escaped, it
    # survives the trim of a re-import.
    Program.objects.filter(nrmp_code="9999140C2").update(name="\tTab", eras_name="\rCR")
    out = io.StringIO()
    export_programs_csv(Program.objects.order_by("nrmp_code"), out)

    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert exported[0]["name"] == "'=HYPERLINK(\"http://evil\")"
    assert (exported[1]["name"], exported[1]["eras_name"], exported[1]["city"]) == ("'+1", "'@SUM(1)", "'-2")
    assert (exported[2]["name"], exported[2]["eras_name"]) == ("'\tTab", "'\rCR")
    for row in exported:
        assert not row["name"].startswith(("=", "+", "-", "@", "\t", "\r"))
    before = counts()
    again = import_programs(text=out.getvalue(), dry_run=False)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Program.objects.get(nrmp_code="9999140C0").name == "=HYPERLINK(\"http://evil\")"
    assert Program.objects.get(nrmp_code="9999140C1").eras_name == "@SUM(1)"
    assert Program.objects.get(nrmp_code="9999140C2").name == "\tTab"
    assert counts()[0] == before[0]


def test_the_command_imports_and_reports_errors(postgres, specialties, tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(csv_text(GOOD))
    bad.write_text(csv_text(GOOD | {"positions": "many"}))
    call_command("import_programs", str(good), "--dry-run")
    assert Program.objects.count() == 0
    call_command("import_programs", str(good))
    assert Program.objects.count() == 1
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_programs", str(bad))
    assert "line 2, positions" in capsys.readouterr().err


def test_the_admin_upload_is_a_dry_run_then_confirm_imports(postgres, client, root, specialties):
    client.force_login(root)
    upload = SimpleUploadedFile("programs.csv", csv_text(GOOD).encode(), content_type="text/csv")
    response = client.post(reverse("admin:programs_programimport_add"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert "1 row(s): 1 new" in response.content.decode() and "Confirm import" in response.content.decode()
    assert Program.objects.count() == 0
    record = ProgramImport.objects.get()

    client.post(reverse("admin:programs_programimport_apply", args=[record.pk]))
    client.post(reverse("admin:programs_programimport_apply", args=[record.pk]))  # a double click

    record.refresh_from_db()
    assert record.status == "applied" and Program.objects.count() == 1
    assert RequirementClaim.objects.filter(entered_by=root).count() == 6


def test_the_admin_shows_row_errors_and_cannot_confirm_them(postgres, client, root, specialties):
    client.force_login(root)
    upload = SimpleUploadedFile("bad.csv", csv_text(GOOD | {"visa_h1b": "perhaps"}).encode())
    response = client.post(reverse("admin:programs_programimport_add"), {"file": upload}, follow=True)
    page = response.content.decode()
    assert "line 2, visa_h1b" in page and "Confirm import" not in page
    client.post(reverse("admin:programs_programimport_apply", args=[ProgramImport.objects.get().pk]))
    assert Program.objects.count() == 0
