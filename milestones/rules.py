"""Rule checks against the rule tables (rows with effective dates and sources, never literals here).

Every function accepts optional pre-loaded rows so callers that judge many things at once (the risk
service) stay at a constant number of queries; without them, the rows come from the process's reference
snapshot (milestones/reference.py: one tiny query for its version).
Messages name the rule and its source, because applicants must be able to check what we tell them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

from .models import AttemptLimit, Exam, OETSeasonWindow, PassingStandard
from .reference import reference_data

ALL_EXAMS = "all"


@dataclass(frozen=True)
class Judgement:
    passed: bool | None  # None: cannot be judged (no rule in force, or reported pass/fail only)
    reason: str
    source_url: str = ""


@dataclass(frozen=True)
class PastAttempt:
    exam: str
    test_date: date
    passed: bool | None


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def in_force(rows: Iterable, day: date, **match):
    """The row in force on `day` (the latest effective_from wins), among rows matching `match`."""
    candidates = [
        row
        for row in rows
        if row.effective_from <= day
        and (row.effective_to is None or row.effective_to >= day)
        and all(getattr(row, name) == value for name, value in match.items())
    ]
    return max(candidates, key=lambda row: row.effective_from, default=None)


def standard_in_force(*, exam: str, day: date, standards: Sequence[PassingStandard] | None = None):
    rows = standards if standards is not None else reference_data().standards_of(exam)
    return in_force(rows, day, exam=exam)


def limit_in_force(*, exam: str, day: date, limits: Sequence[AttemptLimit] | None = None):
    """A row for this Step if there is one, otherwise the rule for all Steps."""
    rows = limits if limits is not None else reference_data().attempt_limits
    return in_force(rows, day, exam=exam) or in_force(rows, day, exam=ALL_EXAMS)


def source(url: str) -> str:
    return f" (source: {url})" if url else ""


def judge_score(*, exam: str, test_date: date, score: int, standards=None) -> Judgement:
    """A 3-digit score judged against the passing standard in force on the test date (not today's)."""
    label = Exam(exam).label
    standard = standard_in_force(exam=exam, day=test_date, standards=standards)
    if standard is None:
        return Judgement(None, f"No passing standard for {label} is on file for tests on {test_date}.")
    if standard.pass_fail_only:
        return Judgement(
            None,
            f"{label} tests from {standard.effective_from:%d %b %Y} are reported pass/fail only, without a "
            f"3-digit score{source(standard.source_url)}.",
            standard.source_url,
        )
    passed = score >= standard.min_score
    return Judgement(
        passed,
        f"{label} tested on {test_date:%d %b %Y}: the passing score then was {standard.min_score} "
        f"(in force from {standard.effective_from:%d %b %Y}), so {score} "
        f"{'passes' if passed else 'does not pass'}{source(standard.source_url)}.",
        standard.source_url,
    )


def oet_window(season: int | None, windows=None) -> OETSeasonWindow | None:
    """The OET test-date window of the Pathways season of the `season` Match, if one is on file."""
    if season is None:
        return None
    if windows is None:
        windows = reference_data().oet_windows
    return next((w for w in windows if w.cycle_year == season), None)


def status_words(row) -> str:
    """How sure the planner is of a row, in words shown next to what it says."""
    return {
        "confirmed": "official source",
        "secondary": "secondary source, not confirmed by the official page",
        "projected": "projected, not yet published",
    }.get(row.status, row.status)


def window_text(window: OETSeasonWindow) -> str:
    return (
        f"the {window.cycle_year} Match (Pathways season) accepts OET tests taken on or after "
        f"{window.tests_from:%-d %b %Y} ({status_words(window)}){source(window.source_url)}"
    )


def judge_oet(
    *,
    test_date: date,
    listening: int,
    reading: int,
    speaking: int,
    writing: int,
    thresholds=None,
    season: int | None = None,
    windows=None,
):
    """OET Medicine against the ECFMG threshold in force on the test date (all four in one sitting)
    and, when the target Match `season` is known, against that season's test-date window (audit D1)."""
    rows = thresholds if thresholds is not None else reference_data().oet_thresholds
    threshold = in_force(rows, test_date)
    if threshold is None:
        return Judgement(None, f"No ECFMG OET requirement is on file for tests on {test_date}.")
    window = oet_window(season, windows)
    if window is not None and test_date < window.tests_from:
        return Judgement(
            False,
            f"Taken on {test_date:%-d %b %Y}, before the {window.cycle_year} Match window: "
            f"{window_text(window)}.",
            window.source_url,
        )
    scores = {"Listening": listening, "Reading": reading, "Speaking": speaking, "Writing": writing}
    short = [
        f"{name} {scores[name]} (needs {getattr(threshold, name.lower())})"
        for name in scores
        if scores[name] < getattr(threshold, name.lower())
    ]
    if short:
        return Judgement(
            False,
            f"Below the ECFMG requirement: {', '.join(short)}. All four sub-tests must be retaken in one "
            f"sitting{source(threshold.source_url)}.",
            threshold.source_url,
        )
    return Judgement(
        True, f"Meets the ECFMG OET requirement{source(threshold.source_url)}.", threshold.source_url
    )


def judge_oet_result(result, *, thresholds=None, season: int | None = None, windows=None):
    """judge_oet for a recorded OETResult row (against the `season` Match's window when given)."""
    return judge_oet(
        test_date=result.test_date,
        listening=result.listening,
        reading=result.reading,
        speaking=result.speaking,
        writing=result.writing,
        thresholds=thresholds,
        season=season,
        windows=windows,
    )


def check_new_attempt(
    *,
    exam: str,
    test_date: date,
    attempts: Sequence[PastAttempt],
    limits=None,
    applied_on: date | None = None,
    retake_waiver_reason: str = "",
) -> None:
    """Refuse an attempt the USMLE attempt-limit and retake-spacing rules do not allow.

    `attempts` are all the applicant's recorded attempts at every Step: four attempts without a pass at
    any Step bar all Steps. The rule row is the one in force on the exam application date when it is
    known (`applied_on`; USMLE: "applications submitted on or after"), otherwise on the test date.
    A passed Step is not retaken unless `retake_waiver_reason` says why (a state board's requirement).
    Raises ValidationError keyed by "test_date", naming the rule and its source.
    The checks run in a fixed order so an applicant always sees the most fundamental refusal first.
    """
    limit = limit_in_force(exam=exam, day=applied_on or test_date, limits=limits)
    if limit is None:
        return
    label = Exam(exam).label
    url = source(limit.source_url)
    _check_no_retake_after_pass(exam, label, attempts, limit, retake_waiver_reason)
    _check_not_barred_by_other_step(exam, attempts, limit, url)
    same = sorted(a.test_date for a in attempts if a.exam == exam)
    _check_attempts_per_step(label, same, limit, url)
    dates = sorted([*same, test_date])
    _check_attempts_in_12_months(dates, limit, url)
    _check_attempt_spacing(label, dates, dates.index(test_date), limit, url)


def _refuse_test_date(message: str) -> ValidationError:
    return ValidationError({"test_date": message})


def _check_no_retake_after_pass(exam: str, label: str, attempts, limit, waiver_reason: str) -> None:
    if limit.retake_after_pass_allowed or waiver_reason.strip():
        return
    if any(a.exam == exam and a.passed for a in attempts):
        raise _refuse_test_date(
            f"You have passed {label}; USMLE does not allow retaking a passed Step, except to meet a state "
            f"medical board's requirement (then record it with that reason){source(limit.retake_source_url)}."
        )


def _check_not_barred_by_other_step(exam: str, attempts: Sequence[PastAttempt], limit, url: str) -> None:
    """Every allowed attempt at another Step used without a pass bars all Steps."""
    for other in Exam.values:
        tries = [a for a in attempts if a.exam == other]
        if len(tries) >= limit.max_attempts and not any(a.passed for a in tries) and other != exam:
            raise _refuse_test_date(
                f"USMLE bars anyone with {limit.max_attempts} attempts at a Step without passing "
                f"({Exam(other).label}) from every Step{url}."
            )


def _check_attempts_per_step(label: str, same: list[date], limit, url: str) -> None:
    if len(same) >= limit.max_attempts:
        raise _refuse_test_date(
            f"USMLE allows at most {limit.max_attempts} attempts per Step, incomplete attempts "
            f"included; {label} already has {len(same)}{url}."
        )


def _check_attempts_in_12_months(dates: list[date], limit, url: str) -> None:
    """No 12-month window, starting at any attempt, may hold more attempts than the rule allows."""
    if not limit.max_in_12_months:
        return
    for start in dates:
        window = [d for d in dates if start <= d < add_months(start, 12)]
        if len(window) > limit.max_in_12_months:
            raise _refuse_test_date(
                f"USMLE allows at most {limit.max_in_12_months} attempts at the same Step within "
                f"any 12 months{url}."
            )


def _check_attempt_spacing(label: str, dates: list[date], index: int, limit, url: str) -> None:
    """The new attempt (dates[index]) from the row's spacing_from_attempt on: "your fourth and subsequent
    attempts must be at least 12 months after your first and 6 months after your most recent" (audit D23).
    Without that number the rule binds only the last allowed attempt."""
    from_attempt = limit.spacing_from_attempt or limit.max_attempts
    if index + 1 < from_attempt or index == 0:
        return
    last, first, previous = dates[index], dates[0], dates[index - 1]
    earliest = max(
        add_months(first, limit.min_months_after_first_for_last or 0),
        add_months(previous, limit.min_months_after_previous_for_last or 0),
    )
    if last < earliest:
        raise _refuse_test_date(
            f"Your {_ordinal(index + 1)} {label} attempt must be at least "
            f"{limit.min_months_after_first_for_last} months after the first and "
            f"{limit.min_months_after_previous_for_last} months after the most recent one: "
            f"not before {earliest:%d %b %Y}{url}."
        )


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def attempts_left(*, exam: str, attempts: Sequence[PastAttempt], day: date, limits=None) -> int | None:
    limit = limit_in_force(exam=exam, day=day, limits=limits)
    if limit is None:
        return None
    return max(limit.max_attempts - sum(1 for a in attempts if a.exam == exam), 0)
