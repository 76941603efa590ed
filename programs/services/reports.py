"""'Report outdated information': a report lands in the review queue; an advisor or admin accepts it (the
claim is updated from the report, with the report's source, and marked verified by the reviewer) or
dismisses it."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import OutdatedReport, Program
from ..requirements import Requirement, SourceKind
from ..values import parse_value
from .claims import _can_verify, record_claim


@transaction.atomic
def report_outdated(
    *,
    program: Program,
    requirement: str,
    by,
    message: str = "",
    proposed_value: str = "",
    source_url: str = "",
    source_kind: str = SourceKind.PROGRAM_WEBSITE,
    observed_on: date | None = None,
) -> OutdatedReport:
    """File a report about one requirement of `program`. `proposed_value` is in the import's cell format and
    is checked now (so a reviewer never accepts a value that cannot be stored); empty = now unknown."""
    if requirement not in Requirement.values:
        raise ValidationError({"requirement": "Choose the requirement that is outdated."})
    try:
        parse_value(requirement, proposed_value)
    except ValidationError as error:
        raise ValidationError({"proposed_value": error.messages}) from None
    if not message.strip() and not proposed_value.strip() and not source_url:
        raise ValidationError({"message": "Say what is outdated, or give the new value or a source."})
    report = OutdatedReport(
        program=program, requirement=requirement, reported_by=by, message=message.strip(),
        proposed_value=proposed_value.strip(), source_url=source_url, source_kind=source_kind,
        observed_on=observed_on or timezone.localdate(),
    )
    report.full_clean(exclude=["program", "reported_by", "reviewed_by"])
    report.save()
    return report


def _open_report(report: OutdatedReport, by) -> OutdatedReport:
    if not _can_verify(by):
        raise ValidationError("Only an advisor or an admin can review reports.")
    report = OutdatedReport.objects.select_for_update().select_related("program").get(pk=report.pk)
    if report.status != OutdatedReport.Status.OPEN:
        raise ValidationError(f"This report was already {report.get_status_display().lower()}.")
    return report


@transaction.atomic
def accept_report(
    *, report: OutdatedReport, by, value: str | None = None, source_url: str | None = None,
    observed_on: date | None = None, note: str = "",
) -> OutdatedReport:
    """Accept: the claim takes the reviewer's `value` (or the report's proposed value), the report's source
    unless the reviewer gives another, and is marked verified by the reviewer."""
    report = _open_report(report, by)
    record_claim(
        program=report.program,
        requirement=report.requirement,
        value=report.proposed_value if value is None else value,
        source_url=report.source_url if source_url is None else source_url,
        source_kind=report.source_kind,
        observed_on=observed_on or report.observed_on or timezone.localdate(),
        by=by,
        verified=True,
        note=note or report.message[:500],
    )
    return _close(report, OutdatedReport.Status.ACCEPTED, by, note)


@transaction.atomic
def dismiss_report(*, report: OutdatedReport, by, note: str = "") -> OutdatedReport:
    report = _open_report(report, by)
    return _close(report, OutdatedReport.Status.DISMISSED, by, note)


def _close(report: OutdatedReport, status: str, by, note: str) -> OutdatedReport:
    report.status, report.reviewed_by, report.reviewed_at, report.review_note = status, by, timezone.now(), note
    report._history_user = by
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    return report
