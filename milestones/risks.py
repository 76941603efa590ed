"""Risks on an applicant's pathway: one service shared by the dashboard, the API and the reminders.

It reads everything it needs in a fixed number of queries (profile, milestones, their evidence as plain
rows grouped by milestone) and then judges in Python, so a long pathway costs no more queries than a short
one. Rule tables, prerequisite links and cycle events come from the process's reference snapshot
(milestones/reference.py): no query while the reference data is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.utils import timezone

from pathway.lib.times import et_date

from . import rules as rule_checks
from .models import ApplicantProfile, DeadlineKind, Exam, ExamAttempt, Milestone, OETResult
from .projections import expected_result_date, latest_test_date
from .reference import ReferenceData, reference_data

# Keys of §10/§11 the gate is about (part of the API, so literal here is fine).
ROL_EVENT = "nrmp_rol_deadline"
STEP2CK, OET, PATHWAY = "usmle_step2ck", "oet_medicine", "ecfmg_pathway"
RED, AMBER = "red", "amber"


@dataclass(frozen=True)
class Risk:
    code: str
    severity: str  # "red" | "amber"
    message: str
    action: str
    milestone: str  # template key


def _fmt(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = et_date(day)
    return f"{day:%a %-d %b %Y}"


class OETScores(NamedTuple):
    """An OET result as the rules judge it (rule_checks.judge_oet_result reads these attributes)."""

    test_date: date
    listening: int
    reading: int
    speaking: int
    writing: int


@dataclass(frozen=True)
class Evidence:
    """Exam attempts and OET results by milestone id, in test-date order: plain rows, not model
    instances, read in one grouped query each (and only when a judgement needs them)."""

    attempts: dict[int, list[rule_checks.PastAttempt]] = field(default_factory=dict)
    oet_results: dict[int, list[OETScores]] = field(default_factory=dict)

    def attempts_of(self, milestone) -> list[rule_checks.PastAttempt]:
        return self.attempts.get(milestone.pk, []) if milestone is not None else []

    def oet_results_of(self, milestone) -> list[OETScores]:
        return self.oet_results.get(milestone.pk, []) if milestone is not None else []


def read_evidence(*, attempts_of=(), oet_results_of=()) -> Evidence:
    """The exam attempts of the milestones `attempts_of` and the OET results of `oet_results_of`: at
    most two queries, none for an empty list."""
    attempts: dict[int, list[rule_checks.PastAttempt]] = {}
    if ids := [m.pk for m in attempts_of]:
        rows = ExamAttempt.objects.filter(milestone_id__in=ids).order_by("test_date", "pk")
        for pk, exam, test_date, passed in rows.values_list("milestone_id", "exam", "test_date", "passed"):
            attempts.setdefault(pk, []).append(rule_checks.PastAttempt(exam, test_date, passed))
    results: dict[int, list[OETScores]] = {}
    if ids := [m.pk for m in oet_results_of]:
        rows = OETResult.objects.filter(milestone_id__in=ids).order_by("test_date", "pk")
        for pk, *scores in rows.values_list(
            "milestone_id", "test_date", "listening", "reading", "speaking", "writing"
        ):
            results.setdefault(pk, []).append(OETScores(*scores))
    return Evidence(attempts, results)


def pathway_risks(
    *, applicant, milestones=None, profile=None, reference: ReferenceData | None = None
) -> list[Risk]:
    """Every risk on the applicant's pathway, red ones first.

    `milestones` and `profile` (with its target cycle) may be passed when the caller already loaded
    them, and the `reference` snapshot when the caller has it (milestones/reference.py); the evidence is
    read here either way.
    """
    if profile is None:
        profile = ApplicantProfile.objects.select_related("target_cycle").filter(user=applicant).first()
    if profile is None:
        return []
    if milestones is None:
        milestones = Milestone.objects.of_applicant(applicant)
    reference = reference or reference_data()
    milestones = [m for m in milestones if m.is_applicable]
    by_key = {m.template.key: m for m in milestones}
    now = timezone.now()
    today = et_date(now)
    oet = by_key.get(OET) if profile.is_img else None
    # Attempts count across every Step, so all of them when any exam step is still open.
    exams_open = any(m.is_open and (m.template.exam or m.template.key == STEP2CK) for m in milestones)
    evidence = read_evidence(
        attempts_of=milestones if exams_open else (),
        oet_results_of=[oet] if oet is not None and oet.is_open else (),
    )
    limits = reference.attempt_limits
    attempts = [a for m in milestones for a in evidence.attempts_of(m)]

    risks = _order_risks(by_key, reference.hard_links)
    for milestone in milestones:
        if milestone.is_open and milestone.due_at and milestone.due_at < now and is_task(milestone.template):
            risks.append(_overdue_risk(milestone))
        if milestone.template.exam and milestone.is_open:
            risks += _attempt_risks(milestone, attempts, today, limits)

    if profile.is_img:
        rol = reference.event(profile.target_cycle_id, ROL_EVENT)
        thresholds = reference.oet_thresholds
        windows = reference.oet_windows_of(profile.target_cycle.year)
        risks += _oet_window_risks(oet, profile, thresholds, windows, evidence)
        if rol is not None:
            rules = (reference.score_release_rules, (thresholds, windows))
            risks += _img_gate(by_key, rol.at, today, profile, rules, evidence)
    risks += _travel_ban_risks(profile, milestones, today, reference)
    return sorted(risks, key=lambda r: r.severity != RED)


# Which visa classes each route needs (J-1: the J visa; H-1B: the H visa, and a B visa to sit Step 3,
# which is given only in the United States).
ROUTE_VISA_CLASSES = {"J1": ("J",), "H1B": ("H", "B")}
ROUTE_MILESTONE = {"J1": "visa_j1", "H1B": "visa_h1b"}


def _travel_ban_risks(profile, milestones, today: date, reference: ReferenceData) -> list[Risk]:
    """Audit D3: a nationality on the travel-ban list bars the visa the chosen route needs (the bans read
    only for an applicant who needs a visa and gave a nationality)."""
    needed = ROUTE_VISA_CLASSES.get(profile.visa_route, ())
    if not (profile.needs_visa and profile.nationality.strip() and needed):
        return []
    visa = next((m for m in milestones if m.template.key == ROUTE_MILESTONE.get(profile.visa_route)), None)
    country = profile.nationality.strip().upper()  # as the database's case-insensitive match
    ban = next(
        (
            b
            for b in reference.travel_bans  # by country, then date in force: the earliest ban first
            if b.country.upper() == country
            and b.in_force_from <= today
            and (b.in_force_to is None or b.in_force_to >= today)
        ),
        None,
    )
    if visa is None or ban is None or not (blocked := [c for c in needed if c in ban.visa_classes]):
        return []
    checked = f"; last checked {ban.last_verified:%-d %b %Y}" if ban.last_verified else ""
    step3 = (
        " B visas, needed to travel to sit Step 3 (given only in the United States), are suspended too."
        if "B" in blocked
        else ""
    )
    return [
        Risk(
            "visa_travel_ban",
            RED,
            f"Since {ban.in_force_from:%-d %b %Y} a proclamation suspends {'/'.join(blocked)} visa issuance for "
            f"nationals of {ban.country} ({ban.get_level_display().lower()}) outside the US without a valid "
            f"visa: this bars the {visa.template.title}, it does not just delay it.{step3} "
            f"({rule_checks.status_words(ban)}{checked}){rule_checks.source(ban.source_url)}",
            "Check the exceptions (a valid visa, another nationality's passport, a national-interest exception) "
            "with an immigration lawyer and ECFMG now, and consider programs and routes that do not need this visa.",
            visa.template.key,
        )
    ]


def _oet_window_risks(oet, profile, thresholds, windows, evidence: Evidence) -> list[Risk]:
    """Audit D1: a recorded OET that meets the scores but was taken before the target season's window."""
    if oet is None or not oet.is_open:
        return []
    season = profile.target_cycle.year
    window = rule_checks.oet_window(season, windows)
    if window is None:
        return []
    early = [
        r
        for r in evidence.oet_results_of(oet)
        if rule_checks.judge_oet_result(r, thresholds=thresholds).passed and r.test_date < window.tests_from
    ]
    if not early:
        return []
    return [
        Risk(
            "oet_outside_window",
            RED,
            f"Your OET Medicine of {early[-1].test_date:%-d %b %Y} meets the scores but not the test-date "
            f"window: {rule_checks.window_text(window)}.",
            "Book an OET Medicine sitting inside the window, or check the season's rules on ecfmg.org.",
            OET,
        )
    ]


def is_task(template) -> bool:
    """Whether a missed deadline means the applicant is behind. Not for a contingency (SOAP: needed only
    if the Match goes wrong) nor for a step dated by the applicant's own date (graduation: a past
    graduation date is a fact about them, not something overdue)."""
    return not template.contingency and template.deadline_kind != DeadlineKind.APPLICANT


def _order_risks(by_key: dict[str, Milestone], links) -> list[Risk]:
    """Impossible plans: an open step due before one of its open hard prerequisites is due (the H-1B
    path's Step 3 in January, its ECFMG certificate in July). `links`: (template key, required key) of
    the hard prerequisite links."""
    risks = []
    for key, required in links:
        step, before = by_key.get(key), by_key.get(required)
        if step is None or before is None or not (step.is_open and before.is_open):
            continue
        if step.template.contingency or not (step.due_at and before.due_at) or before.due_at <= step.due_at:
            continue
        risks.append(
            Risk(
                "prerequisite_due_later",
                AMBER,
                f"{step.template.title} is due {_fmt(step.due_at)}, but it can only be done after "
                f"{before.template.title}, which your plan puts at {_fmt(before.due_at)}.",
                f"Get {before.template.title} done by {_fmt(step.due_at)}, well ahead of its own date; if that "
                f"is not possible, {step.template.title} cannot be done in time, so talk to your advisor about "
                "another route (for an H-1B, a J-1) or a later Match.",
                key,
            )
        )
    return risks


def _overdue_risk(milestone) -> Risk:
    return Risk(
        "overdue",
        AMBER,
        f"{milestone.template.title} was due {_fmt(milestone.due_at)} and is not done.",
        "Finish it as soon as you can, or mark it waived with a reason if it does not apply.",
        milestone.template.key,
    )


def _attempt_risks(milestone, attempts, today, limits) -> list[Risk]:
    exam = milestone.template.exam
    tries = [a for a in attempts if a.exam == exam]
    if any(a.passed for a in tries) or not tries:
        return []
    left = rule_checks.attempts_left(exam=exam, attempts=attempts, day=today, limits=limits)
    label = Exam(exam).label
    if left == 0:
        return [
            Risk(
                "attempts_exhausted",
                RED,
                f"You have used every allowed {label} attempt.",
                "Talk to your advisor and the USMLE about your options before planning anything else.",
                milestone.template.key,
            )
        ]
    if left == 1:
        return [
            Risk(
                "last_attempt",
                RED,
                f"Your next {label} attempt is the last one USMLE allows.",
                "Prepare thoroughly and book it only when your practice scores are safely above the pass mark.",
                milestone.template.key,
            )
        ]
    if left is not None and left == 2 and any(a.passed is False for a in tries):
        return [
            Risk(
                "attempts_running_low",
                AMBER,
                f"Only two {label} attempts remain.",
                "Plan the next attempt with your advisor; the last one has waiting-time rules.",
                milestone.template.key,
            )
        ]
    return []


def _gate_risk(key: str, what: str, finish: str, rol: datetime, profile, action: str) -> Risk:
    cycle = profile.target_cycle
    return Risk(
        "img_rol_gate",
        RED,
        f"{what} {finish}, after the NRMP rank order list deadline ({_fmt(rol)}, 9 p.m. ET). NRMP withdraws "
        f"international graduates whose exams and Pathway ECFMG has not confirmed by then, so you would be "
        f"withdrawn from the {cycle.name}.",
        f"{action} If that is not possible, move your target to the {cycle.year + 1} Match.",
        key,
    )


def _img_gate(by_key, rol: datetime, today: date, profile, rules, evidence: Evidence) -> list[Risk]:
    """Domain §11.5 #2: Step 2 CK, OET or the Pathway projected to finish after the ROL deadline.

    Each of the three is judged on its own, except the Pathway: ECFMG accepts it only once the OET
    pass reached them, so a late OET makes the Pathway late too. `rules`: (score release rules,
    (OET thresholds, OET windows)); `evidence`: the attempts of Step 2 CK and the results of OET.
    """
    releases, oet_rules = rules
    rol_day = et_date(rol)
    step2, oet = by_key.get(STEP2CK), by_key.get(OET)
    risks = _step2ck_gate(step2, evidence.attempts_of(step2), rol, rol_day, today, profile, releases)
    oet_risks = _oet_gate(oet, evidence.oet_results_of(oet), rol, rol_day, today, profile, oet_rules)
    risks += oet_risks
    risks += _pathway_gate(by_key.get(PATHWAY), rol, rol_day, today, profile, oet_late=bool(oet_risks))
    return risks


def _step2ck_gate(step2, tries, rol: datetime, rol_day: date, today: date, profile, releases) -> list[Risk]:
    """A pending result expected after the ROL deadline, or no test date left that reports in time.
    `tries`: the Step 2 CK attempts, in test-date order."""
    if step2 is None or not step2.is_open:
        return []
    if any(a.passed for a in tries):
        return []
    pending = [a for a in tries if a.passed is None]
    latest_test = latest_test_date(result_by=rol_day, exam=Exam.STEP2CK, rules=releases)
    if pending:
        expected, _ = expected_result_date(test_date=pending[-1].test_date, exam=Exam.STEP2CK, rules=releases)
        if expected <= rol_day:
            return []
        return [
            _gate_risk(
                STEP2CK,
                "Your Step 2 CK result is expected",
                f"around {_fmt(expected)}",
                rol,
                profile,
                f"Move your test to {_fmt(latest_test)} or earlier so the result is out in time.",
            )
        ]
    if today <= latest_test:
        return []
    return [
        _gate_risk(
            STEP2CK,
            "A Step 2 CK pass can no longer be reported",
            f"(the last test date that works was {_fmt(latest_test)})",
            rol,
            profile,
            "Book the earliest Step 2 CK date you can for the next cycle.",
        )
    ]


def _oet_gate(oet, results, rol: datetime, rol_day: date, today: date, profile, oet_rules) -> list[Risk]:
    """No OET pass (inside the season's window) yet and the recommended last sitting is past."""
    if oet is None or not oet.is_open:
        return []
    thresholds, windows = oet_rules
    season = profile.target_cycle.year
    passed = any(
        rule_checks.judge_oet_result(r, thresholds=thresholds, season=season, windows=windows).passed
        for r in results
    )
    # ECFMG's advice: sit OET by the last December date so scores are processed before the ROL
    # deadline; how long OET takes is unverified, so that recommended date is the projection.
    cutoff = et_date(oet.due_at) if oet.due_at else rol_day
    if passed or today <= cutoff:
        return []
    return [
        _gate_risk(
            OET,
            "Your OET Medicine pass is projected to reach ECFMG",
            "too late",
            rol,
            profile,
            "Book the very next OET Medicine sitting and ask OET to send the result to ECFMG at once.",
        )
    ]


def _pathway_gate(
    pathway, rol: datetime, rol_day: date, today: date, profile, *, oet_late: bool
) -> list[Risk]:
    if pathway is None or not pathway.is_open or not (oet_late or today > rol_day):
        return []
    return [
        _gate_risk(
            PATHWAY,
            "Your ECFMG Pathway is projected to be accepted",
            "too late" if oet_late else "after the deadline has passed",
            rol,
            profile,
            "Complete the Pathway application and its OET requirement as early as possible.",
        )
    ]


# --- The cohort's flags ----------------------------------------------------------------------------
# What an advisor scans a cohort for (issue 14): one flag per code, judged for many applicants at once
# in a fixed number of queries. The IMG gate reuses `_img_gate`, the reachability flag the reachability
# module's own verdict, so an advisor and the student see the same judgement.

ERAS_OPEN_EVENT = "eras_season_open"
MATCH_WEEK_START, MATCH_DAY = "match_status_release", "match_day"
ECFMG_VERIFIED, ROL_STEP = "ecfmg_exam_reqs_verified", "rank_order_list"
SOAP_STEP, MATCH_RESULT = "soap", "match_result"
# An advisor's alarm, not a rule of the Match: three days leave time to reach the student and certify.
ROL_CERTIFY_WARNING_DAYS = 3

INTERVIEWS_STEP = "interviews"  # the milestone the interview target flag points at
COHORT_FLAGS = {
    "ecfmg_unverified": "ECFMG requirements not verified, ERAS open",
    "img_rol_gate": "Result projected after the rank order list deadline",
    "rol_not_certified": "Rank order list not certified, deadline in 3 days or less",
    "interviews_below_target": "Fewer interviews than the target",
    "unmatched": "Unmatched in Match Week",
    "match_unreachable": "Target Match no longer reachable",
}


@dataclass(frozen=True)
class CohortContext:
    """Everything the cohort's flags read besides the applicants' own rows, read once."""

    now: datetime
    events: dict  # (cycle year, event key) -> CycleEvent
    gate_events: dict  # cycle year -> the rank order list deadline event
    links: dict
    releases: tuple
    thresholds: tuple
    windows: tuple
    evidence: Evidence = Evidence()


def cohort_context(now: datetime | None = None, reference: ReferenceData | None = None) -> CohortContext:
    from .reachability import GATE_EVENT

    reference = reference or reference_data()
    keys = {ERAS_OPEN_EVENT, ROL_EVENT, MATCH_WEEK_START, MATCH_DAY, GATE_EVENT}
    events = {
        (e.cycle.year, e.key): e for events in reference.events.values() for e in events if e.key in keys
    }
    return CohortContext(
        now=now or timezone.now(),
        events=events,
        gate_events={year: e for (year, key), e in events.items() if key == GATE_EVENT},
        links=reference.hard_prerequisites,
        releases=reference.score_release_rules,
        thresholds=reference.oet_thresholds,
        windows=reference.oet_windows,
    )


@dataclass(frozen=True)
class InterviewGoal:
    """An applicant's interviews so far against the strictest target their advisors set for their
    specialty (counted by the caller: the season's interviews and the targets live above the engine)."""

    interviews: int
    target: int
    by_date: date


def cohort_risks(
    *, applicant_ids, now: datetime | None = None, interview_goals: dict[int, InterviewGoal] | None = None
) -> dict[int, list[Risk]]:
    """applicant id -> the cohort flags (COHORT_FLAGS) on their pathway, in a fixed number of queries
    whatever the number of applicants. Applicants without a profile have none."""
    context = cohort_context(now)
    goals = interview_goals or {}
    profiles = {
        p.user_id: p
        for p in ApplicantProfile.objects.select_related("target_cycle").filter(user_id__in=list(applicant_ids))
    }
    rows: dict[int, list[Milestone]] = {pk: [] for pk in profiles}
    for milestone in Milestone.objects.applicable().filter(applicant_id__in=list(profiles)).select_related("template"):
        rows[milestone.applicant_id].append(milestone)
    steps = [m for ms in rows.values() for m in ms]
    evidence = read_evidence(
        attempts_of=[m for m in steps if m.template.key == STEP2CK],
        oet_results_of=[m for m in steps if m.template.key == OET],
    )
    context = replace(context, evidence=evidence)
    return {pk: flags_of(profiles[pk], rows[pk], context, goals.get(pk)) for pk in profiles}


def flags_of(
    profile, milestones: list[Milestone], context: CohortContext, goal: InterviewGoal | None = None
) -> list[Risk]:
    """The cohort flags of one applicant, from rows already read."""
    from .reachability import verdict_for

    by_key = {m.template.key: m for m in milestones}
    year, today = profile.target_cycle.year, et_date(context.now)
    event = {
        key: context.events.get((year, key)) for key in (ERAS_OPEN_EVENT, ROL_EVENT, MATCH_WEEK_START, MATCH_DAY)
    }
    flags = []
    if profile.is_img and _open(by_key, ECFMG_VERIFIED) and _passed(event[ERAS_OPEN_EVENT], context.now):
        flags.append(_flag("ecfmg_unverified", AMBER, ECFMG_VERIFIED))
    rol = event[ROL_EVENT]
    if profile.is_img and rol is not None:
        rules = (context.releases, (context.thresholds, context.windows))
        gate = _img_gate(by_key, rol.at, today, profile, rules, context.evidence)
        if gate:
            flags.append(Risk("img_rol_gate", RED, COHORT_FLAGS["img_rol_gate"], gate[0].action, gate[0].milestone))
    warn_from = rol.at - timedelta(days=ROL_CERTIFY_WARNING_DAYS) if rol is not None else None
    if warn_from is not None and context.now >= warn_from and _open(by_key, ROL_STEP):
        flags.append(_flag("rol_not_certified", RED, ROL_STEP))
    if _below_interview_goal(goal, today) and _open(by_key, ROL_STEP):
        flags.append(_flag("interviews_below_target", AMBER, INTERVIEWS_STEP))
    if _in_match_week(event, context.now) and _unmatched(by_key):
        flags.append(_flag("unmatched", RED, SOAP_STEP))
    verdict = verdict_for(
        profile=profile, milestones=milestones, gate_events=context.gate_events, today=today, links=context.links
    )
    if verdict is not None and not verdict.reachable:
        flags.append(_flag("match_unreachable", RED, ROL_STEP))
    return flags


def _flag(code: str, severity: str, milestone: str) -> Risk:
    return Risk(code, severity, COHORT_FLAGS[code], "", milestone)


def _below_interview_goal(goal: InterviewGoal | None, today: date) -> bool:
    """Fewer interviews than the target once its date has come (before it, the season is still young)."""
    return goal is not None and today >= goal.by_date and goal.interviews < goal.target


def _open(by_key: dict, key: str) -> bool:
    return key in by_key and by_key[key].is_open


def _passed(event, now: datetime) -> bool:
    return event is not None and event.at <= now


def _in_match_week(event: dict, now: datetime) -> bool:
    start, end = event[MATCH_WEEK_START], event[MATCH_DAY]
    return start is not None and end is not None and start.at <= now <= end.at + timedelta(days=1)


def _unmatched(by_key: dict) -> bool:
    """In SOAP (started or finished it) without a Match result recorded: unmatched or partly matched."""
    soap = by_key.get(SOAP_STEP)
    return soap is not None and soap.status != Milestone.Status.NOT_STARTED and _open(by_key, MATCH_RESULT)
