"""The cycles router: a Match cycle's dated events, public reference data for any signed-in caller."""

from __future__ import annotations

from ninja import Router, Status

from milestones.models import CycleEvent, MatchCycle
from pathway.lib.times import ET

from .schemas import READ_ERRORS, CycleOut

router = Router(tags=["cycles"])


@router.get("/cycles/{int:year}", response={200: CycleOut, **READ_ERRORS})
def get_cycle(request, year: int):
    """A Match cycle's dated events. Public reference data: any signed-in user or token may read it."""
    cycle = MatchCycle.objects.filter(year=year).first()
    if cycle is None:
        return Status(404, {"detail": f"No {year} Match cycle is known."})
    events = CycleEvent.objects.filter(cycle=cycle).order_by("at", "key")
    return {
        "year": cycle.year,
        "name": cycle.name,
        "events": [
            {
                "key": event.key,
                "title": event.title,
                "at": event.at.astimezone(ET),
                "projected": event.projected,
                "source": event.source_url,
            }
            for event in events
        ],
    }
