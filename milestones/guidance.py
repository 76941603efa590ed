"""Guidance text with its dates and numbers taken from the rule rows and cycle events (audit D5, D12).

Guidance in templates.yaml may hold placeholders instead of restating a fact that a row holds:

    [[oet_window]]        the target season's OET test-date window
    [[event:KEY]]         the date of the target cycle's event KEY
    [[passing:EXAM]]      the passing standard in force today for step1/step2ck/step3
    [[visa:KEY]]          a VisaRule's summary (with its term)
    [[travel_ban]]        the travel-ban countries in force today
    [[pathway_season]]    the target season's own Pathways rules

Each is rendered with the row's status ("projected", "secondary source…") so that a rule not yet
confirmed is never stated as settled. An unknown placeholder renders as "(not on file)" rather than
breaking the page: an admin may edit guidance and rows independently.
"""

from __future__ import annotations

import re
from datetime import date

from pathway.lib.times import ET

from . import rules as rule_checks
from .models import TravelBanCountry
from .reference import ReferenceData, reference_data

PLACEHOLDER = re.compile(r"\[\[([a-z_]+)(?::([a-z0-9_]+))?\]\]")
NOT_ON_FILE = "(not on file)"


def checked(row) -> str:
    parts = [rule_checks.status_words(row)]
    if getattr(row, "last_verified", None):
        parts.append(f"last checked {row.last_verified:%-d %b %Y}")
    return f"({'; '.join(parts)})"


def _oet_window(_arg, season: int, today: date, ref: ReferenceData) -> str:
    window = next(iter(ref.oet_windows_of(season)), None)
    if window is None:
        return NOT_ON_FILE
    return f"for the {season} Match, tests taken on or after {window.tests_from:%-d %b %Y} {checked(window)}"


def _event(key, season: int, today: date, ref: ReferenceData) -> str:
    event = ref.event_of_year(season, key)
    if event is None:
        return NOT_ON_FILE
    return f"{event.at.astimezone(ET):%a %-d %b %Y, %-I:%M %p} ET {checked(event)}"


def _passing(exam, season: int, today: date, ref: ReferenceData) -> str:
    standard = rule_checks.standard_in_force(exam=exam, day=today, standards=ref.passing_standards)
    if standard is None:
        return NOT_ON_FILE
    if standard.pass_fail_only:
        return f"pass/fail only for tests from {standard.effective_from:%-d %b %Y} {checked(standard)}"
    return f"{standard.min_score} for tests from {standard.effective_from:%-d %b %Y} {checked(standard)}"


def _visa(key, season: int, today: date, ref: ReferenceData) -> str:
    rule = ref.visa_rules.get(key)
    if rule is None:
        return NOT_ON_FILE
    term = f"; initial term to {rule.initial_term_to:%-d %b %Y}" if rule.initial_term_to else ""
    return f"{rule.summary} (in force from {rule.in_force_from:%-d %b %Y}{term}) {checked(rule)}"


def _travel_ban(_arg, season: int, today: date, ref: ReferenceData) -> str:
    rows = [r for r in ref.travel_bans if r.in_force_from <= today and not r.in_force_to]
    if not rows:
        return NOT_ON_FILE
    levels = []
    for level, label in TravelBanCountry.Level.choices:
        names = sorted(r.country for r in rows if r.level == level)
        if names:
            levels.append(f"{label.lower()}: {', '.join(names)}")
    since = min(r.in_force_from for r in rows)
    return f"{'; '.join(levels)} (in force from {since:%-d %b %Y}) {checked(rows[0])}"


def _pathway_season(_arg, season: int, today: date, ref: ReferenceData) -> str:
    row = ref.pathway_seasons.get(season)
    if row is None:
        return NOT_ON_FILE
    window = (
        f"graduation on or after {row.pathways_3_5_graduated_from:%-d %b %Y}"
        if row.pathways_3_5_graduated_from
        else "a graduation window not yet published"
    )
    fee = f"; fee ${row.fee_usd:,}" if row.fee_usd else "; fee not yet published"
    return f"for the {season} Match, Pathways 3 to 5 need {window}{fee} {checked(row)}"


RESOLVERS = {
    "pathway_season": _pathway_season,
    "oet_window": _oet_window,
    "event": _event,
    "passing": _passing,
    "visa": _visa,
    "travel_ban": _travel_ban,
}


def render_guidance(text: str, *, season: int, today: date, reference: ReferenceData | None = None) -> str:
    """`text` with every placeholder replaced by its row's value and status, for the `season` Match.
    The rows come from the `reference` snapshot (read when needed and not given)."""
    refs: list[ReferenceData] = [reference] if reference is not None else []

    def replace(match: re.Match) -> str:
        resolver = RESOLVERS.get(match.group(1))
        if resolver is None:
            return NOT_ON_FILE
        if not refs:
            refs.append(reference_data())
        return resolver(match.group(2), season, today, refs[0])

    return PLACEHOLDER.sub(replace, text)
