"""Match cycles: rolling a cycle over to the next year."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Confidence, CycleEvent, MatchCycle
from ..versions import reference_changed
from ..yearly import next_year_dates


@transaction.atomic
def copy_cycle_to_next_year(*, cycle: MatchCycle) -> MatchCycle:
    """The next Match cycle, with every event moved by its yearly pattern and marked projected."""
    year = cycle.year + 1
    if MatchCycle.objects.filter(year=year).exists():
        raise ValidationError(f"The {year} cycle already exists; nothing was copied from {cycle.name}.")
    name = (
        cycle.name.replace(str(cycle.year), str(year)) if str(cycle.year) in cycle.name else f"{year} Match"
    )
    new = MatchCycle.objects.create(year=year, name=name)
    events = list(cycle.events.all())
    moved = next_year_dates({event.key: event.at for event in events})
    CycleEvent.objects.bulk_create(
        CycleEvent(
            cycle=new,
            key=event.key,
            title=event.title,
            at=moved[event.key],
            status=Confidence.PROJECTED,
            source_url=event.source_url,
            note=f"Projected from the {cycle.year} date by the yearly pattern; confirm against the source.",
        )
        for event in events
    )
    reference_changed()  # bulk_create sends no signals
    return new
