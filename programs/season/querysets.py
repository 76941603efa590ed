"""Reads of the season as QuerySet methods."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch

# Statuses of an application not (or no longer) sent; the values of programs.season.models.Status.
NOT_SENT = ("considering", "withdrawn")


def _model(name: str):
    # By name: the models module imports this one (a direct import would be a cycle).
    return apps.get_model("programs", name)


class ApplicationQuerySet(models.QuerySet):
    def of(self, applicant, cycle):
        """`applicant`'s applications in one cycle (a MatchCycle or its pk)."""
        return self.filter(applicant=applicant, cycle=cycle)

    def visible_to(self, user):
        return self.filter(applicant__in=get_user_model().objects.applicants_visible_to(user))

    def with_related(self):
        return self.select_related("program__institution", "program__specialty", "cycle")

    def for_list(self):
        """What the My programs page shows per row, in a constant number of queries: the program, its
        interview, the dated history, the number of letters assigned."""
        StatusChange = _model("StatusChange")  # noqa: N806
        return (
            self.with_related()
            .select_related("interview")
            .prefetch_related(Prefetch("changes", queryset=StatusChange.objects.order_by("at", "pk")))
            .annotate(letters_assigned=Count("letter_assignments", distinct=True))
        )

    def ever_applied(self):
        """Applications that were sent (fees are paid and not refunded, even if withdrawn later)."""
        sent = _model("StatusChange").objects.filter(application=OuterRef("pk")).exclude(to_status__in=NOT_SENT)
        return self.filter(Exists(sent) | ~models.Q(status__in=NOT_SENT))

    def signalled(self):
        return self.exclude(signal="")
