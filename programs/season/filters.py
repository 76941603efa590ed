"""The My programs filters (django-filter): GET parameters, shared by the page and its CSV export."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from ..models import Service, Specialty
from .models import Application, Signal, Status


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_q", max_length=200)
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, label="Status", widget=forms.CheckboxSelectMultiple
    )
    specialty = django_filters.ModelChoiceFilter(
        queryset=Specialty.objects.all(), to_field_name="acgme_code", label="Specialty",
        field_name="program__specialty",
    )
    service = django_filters.ChoiceFilter(choices=Service.choices, label="Service")
    signal = django_filters.ChoiceFilter(
        choices=[c for c in Signal.choices if c[0]] + [("none", "No signal")], method="filter_signal",
        label="Signal",
    )

    class Meta:
        model = Application
        fields = ["q", "status", "specialty", "service", "signal"]

    def filter_q(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(program__name__icontains=word) | Q(program__institution__name__icontains=word)
                | Q(program__city__icontains=word) | Q(program__nrmp_code__istartswith=word)
                | Q(notes__icontains=word)
            )
        return queryset

    def filter_signal(self, queryset, name, value):
        return queryset.filter(signal="") if value == "none" else queryset.filter(signal=value)

    def described(self) -> list[tuple[str, str]]:
        """The filters applied, as (label, value) for people: the CSV states them on its first lines."""
        applied = []
        for name, value in (self.form.cleaned_data if self.form.is_valid() else {}).items():
            if value in (None, "", []):
                continue
            field = self.form.fields[name]
            if name == "status":
                value = ", ".join(dict(Status.choices)[v] for v in value)
            elif name == "signal":
                value = dict(field.choices).get(value, value)
            elif name == "service":
                value = dict(Service.choices).get(value, value)
            applied.append((str(field.label), str(value)))
        return applied
