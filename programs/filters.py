"""The directory's search filters (django-filter), shared by the pages and the JSON API.

Every filter is a GET parameter, so a search is a URL that can be bookmarked and shared. Requirement
filters go through the QuerySet methods (EXISTS over claims, in SQL); "eligible only" needs the caller's
applicant profile and is ignored for a user without one.
"""

from __future__ import annotations

import django_filters

from .codes import US_STATES, ProgramType
from .facts import ApplicantFacts
from .models import Program, Specialty


class ProgramFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_q", max_length=200)
    specialty = django_filters.ModelChoiceFilter(
        queryset=Specialty.objects.all(), to_field_name="acgme_code", label="Specialty", field_name="specialty"
    )
    # No join, so no DISTINCT (django-filter adds one by default; it would sort every match).
    state = django_filters.MultipleChoiceFilter(choices=US_STATES, label="State", distinct=False)
    track = django_filters.ChoiceFilter(
        choices=ProgramType.choices, field_name="program_type", label="Program type"
    )
    visa = django_filters.ChoiceFilter(
        choices=[("J1", "Sponsors J-1"), ("H1B", "Sponsors H-1B")], method="filter_visa", label="Visa"
    )
    years_since_graduation = django_filters.NumberFilter(
        method="filter_years", label="Years since graduation", min_value=0, max_value=60
    )
    step2ck = django_filters.NumberFilter(method="filter_step2ck", label="My Step 2 CK score", min_value=1, max_value=300)
    usce_months = django_filters.NumberFilter(
        method="filter_usce", label="My months of US clinical experience", min_value=0, max_value=120
    )
    eligible = django_filters.BooleanFilter(method="filter_eligible", label="Only programs I am eligible for")

    class Meta:
        model = Program
        fields = ["q", "specialty", "state", "track", "visa", "years_since_graduation", "step2ck", "usce_months"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_visa(self, queryset, name, value):
        return queryset.sponsoring(value)

    def filter_years(self, queryset, name, value):
        return queryset.accepting_years_since_graduation(int(value))

    def filter_step2ck(self, queryset, name, value):
        return queryset.accepting_step2ck(int(value))

    def filter_usce(self, queryset, name, value):
        return queryset.accepting_usce_months(int(value))

    # The applicant's facts, once read for "eligible only" (None until then): pass them on to verdicts_for.
    facts = None

    def filter_eligible(self, queryset, name, value):
        profile = self._profile()
        if not value or profile is None:
            return queryset
        self.facts = ApplicantFacts.of(profile)
        return queryset.eligible_for(self.facts)

    def _profile(self):
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return getattr(user, "profile", None)
