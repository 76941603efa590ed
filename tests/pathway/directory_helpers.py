"""Fixtures of the directory's page and API tests: the fictional demo programs, the clock in the 2027
season (the demo's claims were observed on 2 November 2026, so they are fresh), and names of demo rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

SEASON_NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
# Demo row 0: every requirement stated and friendly to a J-1 or H-1B IMG.
FRIENDLY_CODE = "9999140C0"
FRIENDLY_ERAS = "Marigold Internal Medicine Residency - Demo"
# Demo row 5: sponsors only the H-1B and wants Step 3 before ranking (the example).
H1B_STEP3_CODE = "9999440C0"


@pytest.fixture
def season():
    with time_machine.travel(SEASON_NOW, tick=False):
        yield SEASON_NOW


@pytest.fixture
def demo_programs(season, pathway_data):
    """The ~60 fictional demo programs, loaded through the real importer."""
    from programs.demo import load_demo_programs
    from programs.models import Program

    load_demo_programs()
    return Program.objects.all()


def program(code):
    from programs.models import Program

    return Program.objects.get(nrmp_code=code)
