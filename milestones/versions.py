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
from collections.abc import Iterable

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


def reference_changed(**_signal_kwargs) -> None:
    """Every page must be built afresh: shared data (a template, a date, a rule) changed."""
    _bump([REFERENCE])


def versions(applicant_id: int) -> tuple[int, int]:
    """(the applicant's version, the reference version): one query."""
    found = dict(
        models.PageVersion.objects.filter(scope__in=[applicant_scope(applicant_id), REFERENCE]).values_list(
            "scope", "version"
        )
    )
    return found.get(applicant_scope(applicant_id), 0), found.get(REFERENCE, 0)


def watch_reference_models(*model_classes) -> None:
    for model in model_classes:
        post_save.connect(reference_changed, sender=model, dispatch_uid=f"page-version-{model._meta.label}")
        post_delete.connect(reference_changed, sender=model, dispatch_uid=f"page-version-del-{model._meta.label}")


def changes_pathway(applicant_of):
    """Decorate a service (under its @transaction.atomic) that changes one applicant's pathway:
    `applicant_of(kwargs)` names the applicant (a user, an id, or something with `applicant_id`)."""

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
    return kwargs["milestone"].applicant_id
