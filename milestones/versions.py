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


def page_state(applicant_id: int) -> PageState | None:
    """The applicant's PageState, or None without a profile: one small query, in plain SQL because it
    runs on every cached page view (the ORM's compiling of it cost more than the database's answer)."""
    profiles, versions_table = models.ApplicantProfile._meta.db_table, models.PageVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.time_zone, a.version, r.version, {_writer_column('r')} FROM {profiles} p "  # noqa: S608
            f"LEFT JOIN {versions_table} a ON a.scope = %s LEFT JOIN {versions_table} r ON r.scope = %s "
            "WHERE p.user_id = %s",
            [applicant_scope(applicant_id), REFERENCE, applicant_id],
        )
        row = cursor.fetchone()
    return None if row is None else PageState(row[0], row[1] or 0, row[2] or 0, row[3] or "")


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
