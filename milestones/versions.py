"""Versions of what the pages show, for the content cache of the web faces.

Every service that changes an applicant's pathway calls `pathway_changed(applicant_id)`; every save or
delete of reference data (templates, their links, cycles, events, rule tables) bumps the "reference"
version through the signals below, whatever saves it (the admin, the loader, a service). Both bumps are
an upsert inside the caller's transaction: a page that reads the versions first, then the data, either
sees the old version (and caches under a key nobody will ask for again) or the new one with the new
data. Bulk writes that bypass signals (`QuerySet.update`, `bulk_create`) call `reference_changed()`.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.signals import post_delete, post_save

from . import models

REFERENCE = "reference"

# What the pages show and every applicant shares. Programs (another app) register theirs with
# `watch_reference_models`.
REFERENCE_MODELS = (
    models.MatchCycle,
    models.CycleEvent,
    models.MilestoneTemplate,
    models.TemplatePrerequisite,
    models.PassingStandard,
    models.AttemptLimit,
    models.OETThreshold,
    models.ScoreReleaseRule,
    models.ErasFeeSchedule,
    models.SignalAllowance,
    models.OETSeasonWindow,
    models.PathwaySeason,
    models.ApplicationService,
    models.TravelBanCountry,
    models.VisaRule,
)


def applicant_scope(applicant_id: int) -> str:
    return f"applicant:{applicant_id}"


def _bump(scopes: Iterable[str]) -> None:
    table = models.PageVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (scope, version) VALUES (%s, 1) "  # noqa: S608 - the table name is ours
            f"ON CONFLICT (scope) DO UPDATE SET version = {table}.version + 1",
            [(scope,) for scope in sorted(set(scopes))],  # sorted: concurrent bumps lock rows in one order
        )


def pathway_changed(*applicant_ids: int) -> None:
    """The applicants' pages must be built afresh (call inside the changing service's transaction)."""
    if applicant_ids:
        _bump(applicant_scope(pk) for pk in applicant_ids)


def viewer_scope(user_id: int) -> str:
    return f"viewer:{user_id}"


def viewer_changed(*user_ids: int) -> None:
    """What these users see of other people's pathways changed besides those pathways themselves (an
    advisor's sharings began, ended or changed, their interview targets): their cohort is built afresh."""
    if user_ids:
        _bump(viewer_scope(pk) for pk in user_ids)


def reference_changed(**_signal_kwargs) -> None:
    """Every page must be built afresh: shared data (a template, a date, a rule) changed."""
    _bump([REFERENCE])


class ReferenceStamp(NamedTuple):
    """Which reference data is current: the version, and on PostgreSQL the transaction that wrote it (the
    row's xmin). A bump that rolls back frees its version number for the next edit; the writer tells the
    two apart, so a stamp never names two different states (milestones/reference.py keys on it)."""

    version: int
    writer: str = ""


def _writer_column(alias: str) -> str:
    # xmin: the id of the transaction that wrote the row's current version (PostgreSQL only).
    return f"{alias}.xmin::text" if connection.vendor == "postgresql" else "''"


@dataclass(frozen=True)
class PageState:
    """What a page needs to know before it asks the cache: the applicant's time zone (for their local
    date) and the two versions (with the reference version's writer, for the reference snapshot)."""

    time_zone: str
    applicant_version: int
    reference_version: int
    reference_writer: str = ""

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def reference_stamp(self) -> ReferenceStamp:
        return ReferenceStamp(self.reference_version, self.reference_writer)


PAGE_STATE_COLUMNS = ("page_time_zone", "page_applicant_version", "page_reference_version", "page_reference_writer")


def page_state_sql(user_column: str, applicant_id: int) -> tuple[str, str, list]:
    """The page state of `applicant_id` as parts of another plain SQL query whose row has that user's id
    in `user_column` (the advisor's access check reads the student and their page state in one round
    trip): (select list, joins, the joins' parameters). The columns are named PAGE_STATE_COLUMNS;
    `page_state_of(values)` reads them."""
    profiles, versions = models.ApplicantProfile._meta.db_table, models.PageVersion._meta.db_table
    columns = (
        f"ps_p.time_zone AS {PAGE_STATE_COLUMNS[0]}, ps_a.version AS {PAGE_STATE_COLUMNS[1]}, "
        f"ps_r.version AS {PAGE_STATE_COLUMNS[2]}, {_writer_column('ps_r')} AS {PAGE_STATE_COLUMNS[3]}"
    )
    joins = (
        f" LEFT JOIN {profiles} ps_p ON ps_p.user_id = {user_column}"
        f" LEFT JOIN {versions} ps_a ON ps_a.scope = %s LEFT JOIN {versions} ps_r ON ps_r.scope = %s"
    )
    return columns, joins, [applicant_scope(applicant_id), REFERENCE]


def page_state_of(values) -> PageState | None:
    """The PageState from page_state_sql's four columns; None without a profile."""
    time_zone, applicant_version, reference_version, writer = values
    if time_zone is None:
        return None
    return PageState(time_zone, applicant_version or 0, reference_version or 0, writer or "")


def page_state(applicant_id: int) -> PageState | None:
    """The applicant's PageState, or None without a profile: one small query, in plain SQL because it
    runs on every cached page view (the ORM's compiling of it cost more than the database's answer)."""
    users = get_user_model()._meta.db_table
    columns, joins, params = page_state_sql("u.id", applicant_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {users} u{joins} WHERE u.id = %s", [*params, applicant_id])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else page_state_of(row)


def reference_stamp() -> ReferenceStamp:
    """The current ReferenceStamp (one tiny query); (0, "") before any reference edit."""
    table = models.PageVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT version, {_writer_column(table)} FROM {table} WHERE scope = %s",  # noqa: S608
            [REFERENCE],
        )
        row = cursor.fetchone()
    return ReferenceStamp(0, "") if row is None else ReferenceStamp(row[0], row[1] or "")


def watch_reference_models(*model_classes) -> None:
    for model in model_classes:
        post_save.connect(reference_changed, sender=model, dispatch_uid=f"page-version-{model._meta.label}")
        post_delete.connect(reference_changed, sender=model, dispatch_uid=f"page-version-del-{model._meta.label}")


def changes_pathway(applicant_of):
    """Decorate a service (under its @transaction.atomic) that changes one applicant's pathway:
    `applicant_of(kwargs)` names the applicant (a user or a user id) from the service's keyword
    arguments. The bump follows the change inside the same transaction, so a refused change bumps nothing."""

    def decorator(service):
        @functools.wraps(service)
        def wrapper(*args, **kwargs):
            result = service(*args, **kwargs)
            pathway_changed(_id_of(applicant_of(kwargs)))
            return result

        return wrapper

    return decorator


def _id_of(applicant) -> int:
    return applicant if isinstance(applicant, int) else applicant.pk


def of_milestone(kwargs) -> int:
    """For services that take `milestone=`: its applicant."""
    return kwargs["milestone"].applicant_id
