"""Reads of the directory as QuerySet methods: search, visibility, filters on claims, and "eligible only".

Requirement filters run in SQL, in the page's own query, on the program's copies of its current claims
(the `req_*` columns, kept by RequirementClaim.save/delete; NULL = unknown), so a page costs the same
number of queries with 100 programs or 10,000. A requirement is met only by a claim that says so: a
missing claim and an "unknown" claim never pass (they are excluded by `eligible_for` and kept by
`eligible_for(..., include_unknown=True)`, which drops only failures).
"""

from __future__ import annotations

import re

from django.apps import apps
from django.db import connection, models
from django.db.models import Q

from .facts import ApplicantFacts
from .requirements import NO_LIMIT, NO_MINIMUM, NOT_NEEDED, Requirement

SEARCH_FIELDS = ("name", "eras_name", "nrmp_name", "institution__name", "city")
# A condition no program meets (the primary key is never null).
NEVER = Q(pk__isnull=True)


def _facts(profile_or_facts) -> ApplicantFacts:
    if isinstance(profile_or_facts, ApplicantFacts):
        return profile_or_facts
    return ApplicantFacts.of(profile_or_facts)


def program_conditions(requirement: str, facts: ApplicantFacts) -> tuple[Q, Q] | None:
    """(passes, fails) as conditions on the program's copied claim columns for this applicant; None when
    the requirement does not apply to them. A NULL column (unknown) matches neither. programs.eligibility
    says the same in words from the claims themselves; tests check the two agree."""
    handler = _CONDITIONS.get(requirement)
    return handler(facts) if handler else None


def _visa(route: str, column: str):
    def conditions(facts: ApplicantFacts):
        if not facts.needs_visa or facts.visa_route != route:
            return None
        return Q(**{column: True}), Q(**{column: False})

    return conditions


def _at_most(column: str, value: int | None):
    """The program's number is a maximum the applicant's `value` must not exceed."""
    if value is None:
        return Q(**{column: NO_LIMIT}), NEVER
    return Q(**{f"{column}__gte": value}), Q(**{f"{column}__lt": value})


def _at_least(column: str, value: int | None):
    """The program's number is a minimum the applicant's `value` must reach."""
    if value is None:
        return Q(**{column: NO_MINIMUM}), NEVER
    return Q(**{f"{column}__lte": value}), Q(**{f"{column}__gt": value})


def _usce(facts: ApplicantFacts):
    return _at_least("req_usce_months", facts.usce_months) if facts.is_img else None


def _ecfmg(facts: ApplicantFacts):
    if not facts.is_img:
        return None
    certified = facts.ecfmg_certified_on
    if certified is None:
        # Not certified yet: a date already past fails; a date ahead cannot be judged yet.
        return Q(req_ecfmg_by=NOT_NEEDED), Q(req_ecfmg_by__lt=facts.today)
    return Q(req_ecfmg_by__gte=certified), Q(req_ecfmg_by__lt=certified)


def _step3(facts: ApplicantFacts):
    if facts.step3_passed_on is None:
        return Q(req_step3_before_ranking=False), Q(req_step3_before_ranking=True)
    return None  # passed: met whatever the program asks, so nothing to filter on


_CONDITIONS = {
    Requirement.VISA_J1: _visa("J1", "req_visa_j1"),
    Requirement.VISA_H1B: _visa("H1B", "req_visa_h1b"),
    Requirement.MAX_YEARS_SINCE_GRADUATION: lambda facts: _at_most("req_max_years", facts.years_since_graduation),
    Requirement.MIN_STEP2CK: lambda facts: _at_least("req_min_step2ck", facts.step2ck_score),
    Requirement.MAX_ATTEMPTS: lambda facts: _at_most("req_max_attempts", facts.attempts_per_step),
    Requirement.USCE_MONTHS: _usce,
    Requirement.ECFMG_CERTIFICATE_BY: _ecfmg,
    Requirement.STEP3_BEFORE_RANKING: _step3,
}
JUDGED_REQUIREMENTS = tuple(_CONDITIONS)


class ProgramQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Listed programs, plus those `user` added themselves; advisors and admins see every program."""
        if not user.is_authenticated:
            return self.filter(listed=True)
        if getattr(user, "role", None) in ("advisor", "admin") or user.is_superuser:
            return self
        return self.filter(Q(listed=True) | Q(added_by=user))

    def with_related(self):
        return self.select_related("institution", "specialty")

    def with_claims(self):
        return self.prefetch_related("claims")

    def search(self, text: str):
        """Programs whose name, ERAS name, NRMP name, institution or city match `text`, or whose NRMP code
        starts with it. PostgreSQL: full-text search with prefix matching on each word; SQLite: plain
        case-insensitive matching of every word."""
        words = re.findall(r"\w+", text or "")
        if not words:
            return self
        code = Q(nrmp_code__istartswith="".join(words))
        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchVector

            vector = SearchVector(*SEARCH_FIELDS, config="english")
            query = SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="english")
            return self.annotate(_search=vector).filter(Q(_search=query) | code)
        match = Q()
        for word in words:
            match &= Q(*[Q(**{f"{field}__icontains": word}) for field in SEARCH_FIELDS], _connector=Q.OR)
        return self.filter(match | code)

    def in_states(self, *states: str):
        return self.filter(state__in=states)

    def of_specialty(self, acgme_code: str):
        return self.filter(specialty__acgme_code=acgme_code)

    def sponsoring(self, route: str):
        """Programs whose claim says they sponsor this visa ("J1" or "H1B"); unknown is not sponsoring."""
        return self.filter(**{"req_visa_j1" if route == "J1" else "req_visa_h1b": True})

    def accepting_years_since_graduation(self, years: int):
        return self.filter(_at_most("req_max_years", years)[0])

    def accepting_step2ck(self, score: int):
        return self.filter(_at_least("req_min_step2ck", score)[0])

    def accepting_usce_months(self, months: int):
        return self.filter(_at_least("req_usce_months", months)[0])

    def eligible_for(self, profile, *, include_unknown: bool = False):
        """Programs `profile` (an ApplicantProfile or ApplicantFacts) is eligible for, in SQL.

        Strict by default: every requirement that applies to the applicant has a claim that passes.
        With include_unknown, only programs with a failing claim are dropped ("not ruled out").
        """
        facts = _facts(profile)
        condition = Q()
        for requirement in JUDGED_REQUIREMENTS:
            conditions = program_conditions(requirement, facts)
            if conditions is None:
                continue
            passes, fails = conditions
            # ~fails keeps NULL (unknown) columns: Django's negation adds the IS NOT NULL guard itself.
            condition &= ~fails if include_unknown else passes
        return self.filter(condition)


class ClaimQuerySet(models.QuerySet):
    def of_program(self, program):
        return self.filter(program=program)

    def stale(self, settings_row=None, today=None):
        from datetime import timedelta

        from django.utils import timezone

        settings_row = settings_row or apps.get_model("programs", "DirectorySettings").current()
        cutoff = (today or timezone.localdate()) - timedelta(days=settings_row.stale_after_days)
        return self.filter(observed_on__lt=cutoff)

    def unverified(self):
        return self.filter(verified_by__isnull=True)


class ReportQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status="open")

    def visible_to(self, user):
        """The review queue is for advisors and admins; a reporter sees their own reports."""
        if getattr(user, "role", None) in ("advisor", "admin") or user.is_superuser:
            return self
        return self.filter(reported_by=user) if user.is_authenticated else self.none()
