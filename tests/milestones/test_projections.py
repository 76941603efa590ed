"""Expected USMLE result dates (Wednesday releases, blackout weeks) and USCE months."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from milestones.projections import expected_result_date, in_blackout, latest_test_date, usce_months_by_kind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pathway_data")]


def test_results_come_on_the_wednesday_after_four_weeks():
    typical, worst = expected_result_date(test_date=date(2026, 9, 14), exam="step2ck")  # a Monday

    assert typical == date(2026, 10, 14)
    assert typical.weekday() == 2
    assert worst == date(2026, 9, 14) + timedelta(days=56)


def test_the_week_of_4_july_is_skipped():
    # 4 weeks after 1 Jun 2026 is Mon 29 Jun; that week (29 Jun - 5 Jul) holds 4 July, so not Wed 1 Jul.
    typical, _ = expected_result_date(test_date=date(2026, 6, 1), exam="step1")
    assert typical == date(2026, 7, 8)
    assert in_blackout(date(2026, 7, 1), ["07-04"])
    assert not in_blackout(date(2026, 7, 8), ["07-04"])


def test_the_last_week_of_december_is_skipped():
    typical, _ = expected_result_date(test_date=date(2026, 12, 2), exam="step2ck")

    assert typical == date(2027, 1, 6)  # 30 Dec 2026 is in the last week of December
    assert typical.weekday() == 2


def test_the_latest_test_date_still_reports_by_the_rol_deadline():
    latest = latest_test_date(result_by=date(2027, 3, 3), exam="step2ck")

    assert expected_result_date(test_date=latest, exam="step2ck")[0] <= date(2027, 3, 3)
    assert expected_result_date(test_date=latest + timedelta(days=1), exam="step2ck")[0] > date(2027, 3, 3)


def test_usce_months_are_summed_by_kind():
    entries = [
        SimpleNamespace(
            kind="externship", hands_on=True, start_date=date(2026, 1, 1), end_date=date(2026, 3, 31)
        ),
        SimpleNamespace(
            kind="externship", hands_on=True, start_date=date(2026, 5, 1), end_date=date(2026, 5, 31)
        ),
        SimpleNamespace(
            kind="observership", hands_on=False, start_date=date(2026, 7, 1), end_date=date(2026, 7, 15)
        ),
    ]

    assert usce_months_by_kind(entries) == {"externship": 4.0, "observership": 0.5}
