"""Rule tables: passing standards by test date, attempt limits and spacing, OET, evidence validation."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from milestones.rules import judge_oet, judge_score
from milestones.services import add_usce_entry, record_exam_attempt, record_oet_result

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pathway_data")]
ATTEMPT_SOURCE = "https://www.usmle.org/common-questions/attempt-limit"


@pytest.fixture(autouse=True)
def _today(season_today):
    """Every test here runs in the middle of the 2027 season."""


def test_a_score_is_judged_against_the_standard_in_force_on_its_test_date():
    assert judge_score(exam="step2ck", test_date=date(2024, 5, 10), score=214).passed is True
    late = judge_score(exam="step2ck", test_date=date(2025, 8, 10), score=214)
    assert late.passed is False
    assert "218" in late.reason
    assert judge_score(exam="step2ck", test_date=date(2020, 1, 10), score=210).passed is True
    assert judge_score(exam="step3", test_date=date(2023, 12, 1), score=199).passed is True
    assert judge_score(exam="step3", test_date=date(2024, 1, 1), score=199).passed is False


def test_step1_is_pass_fail_only_from_26_january_2022():
    assert judge_score(exam="step1", test_date=date(2022, 1, 25), score=220).passed is True
    after = judge_score(exam="step1", test_date=date(2022, 1, 26), score=220)
    assert after.passed is None
    assert "pass/fail only" in after.reason


def test_a_step1_score_after_the_switch_is_refused(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    with pytest.raises(ValidationError) as exc:
        record_exam_attempt(
            milestone=milestone_of(user, "usmle_step1"), test_date=date(2024, 3, 1), score=230, by=user
        )
    assert "pass/fail only" in exc.value.message_dict["score"][0]


def test_only_a_score_derives_the_result_and_a_contradiction_is_refused(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    step2 = milestone_of(user, "usmle_step2ck")

    with pytest.raises(ValidationError) as exc:
        record_exam_attempt(milestone=step2, test_date=date(2025, 8, 1), score=214, passed=True, by=user)
    assert "passed" in exc.value.message_dict

    attempt = record_exam_attempt(milestone=step2, test_date=date(2025, 8, 1), score=214, by=user)
    assert attempt.passed is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 301}, "score"),
        ({"result_date": date(2025, 7, 1)}, "result_date"),
        ({"test_date": date(2028, 1, 10)}, "test_date"),
        ({"test_date": date(2027, 1, 10), "passed": True}, "passed"),
    ],
)
def test_impossible_attempts_are_refused_by_field(planned_applicant, milestone_of, kwargs, field):
    user = planned_applicant("US_MD")
    values = {"test_date": date(2025, 8, 1), **kwargs}
    with pytest.raises(ValidationError) as exc:
        record_exam_attempt(milestone=milestone_of(user, "usmle_step2ck"), by=user, **values)
    assert field in exc.value.message_dict


def test_a_milestone_without_exams_refuses_attempts(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    with pytest.raises(ValidationError):
        record_exam_attempt(
            milestone=milestone_of(user, "personal_statement"), test_date=date(2025, 8, 1), by=user
        )


def fail(user, step, day):
    return record_exam_attempt(milestone=step, test_date=day, result_date=None, passed=False, by=user)


def test_a_fifth_attempt_is_refused_naming_the_rule_and_its_source(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    step2 = milestone_of(user, "usmle_step2ck")
    for day in [date(2023, 1, 10), date(2023, 5, 10), date(2023, 9, 10), date(2024, 3, 10)]:
        fail(user, step2, day)

    with pytest.raises(ValidationError) as exc:
        fail(user, step2, date(2025, 3, 10))

    message = exc.value.message_dict["test_date"][0]
    assert "at most 4 attempts per Step" in message
    assert ATTEMPT_SOURCE in message


def test_four_failures_at_one_step_bar_every_step(planned_applicant, milestone_of):
    user = planned_applicant("US_MD")
    step2 = milestone_of(user, "usmle_step2ck")
    for day in [date(2023, 1, 10), date(2023, 5, 10), date(2023, 9, 10), date(2024, 3, 10)]:
        fail(user, step2, day)

    with pytest.raises(ValidationError) as exc:
        fail(user, milestone_of(user, "usmle_step1"), date(2025, 3, 10))
    assert "from every Step" in exc.value.message_dict["test_date"][0]


def test_the_last_attempt_must_wait_12_months_after_the_first_and_6_after_the_previous(
    planned_applicant, milestone_of
):
    user = planned_applicant("US_MD")
    step2 = milestone_of(user, "usmle_step2ck")
    for day in [date(2024, 1, 10), date(2024, 3, 10), date(2024, 9, 10)]:
        fail(user, step2, day)

    with pytest.raises(ValidationError) as exc:
        fail(user, step2, date(2025, 1, 10))  # 12 months after the first, but only 4 after the previous
    message = exc.value.message_dict["test_date"][0]
    assert "not before 10 Mar 2025" in message
    assert ATTEMPT_SOURCE in message

    fail(user, step2, date(2025, 3, 10))


def test_no_more_than_three_attempts_in_twelve_months(planned_applicant, milestone_of):
    # Under the 2012-2021 limit of six, a 4th attempt is not the last, so only the 12-month rule binds.
    user = planned_applicant("US_MD")
    step1 = milestone_of(user, "usmle_step1")
    for day in [date(2019, 1, 10), date(2019, 3, 10), date(2019, 5, 10)]:
        fail(user, step1, day)

    with pytest.raises(ValidationError) as exc:
        fail(user, step1, date(2019, 7, 10))
    assert (
        "at most 3 attempts at the same Step within any 12 months" in exc.value.message_dict["test_date"][0]
    )

    fail(user, step1, date(2020, 1, 11))


def test_a_pass_completes_the_exam_when_its_prerequisites_are_done(planned_applicant, milestone_of):
    from milestones.services import set_status

    user = planned_applicant("US_MD")
    record_exam_attempt(
        milestone=milestone_of(user, "usmle_step2ck"), test_date=date(2025, 9, 1), score=240, by=user
    )
    assert milestone_of(user, "usmle_step2ck").status == "in_progress"  # NBME registration still open

    user2 = planned_applicant("US_MD")
    set_status(milestone=milestone_of(user2, "nbme_registration"), status="done", by=user2)
    record_exam_attempt(
        milestone=milestone_of(user2, "usmle_step2ck"),
        test_date=date(2025, 9, 1),
        result_date=date(2025, 10, 1),
        score=240,
        by=user2,
    )
    done = milestone_of(user2, "usmle_step2ck")
    assert done.status == "done"
    assert done.completed_on == date(2025, 10, 1)


def test_oet_is_judged_by_the_threshold_of_its_test_date():
    assert judge_oet(test_date=date(2024, 5, 1), listening=350, reading=350, speaking=350, writing=300).passed
    short = judge_oet(test_date=date(2021, 5, 1), listening=350, reading=350, speaking=350, writing=300)
    assert short.passed is False
    assert "Writing 300 (needs 350)" in short.reason


def test_oet_sub_scores_are_range_checked(planned_applicant, milestone_of):
    user = planned_applicant("US_IMG")
    oet = milestone_of(user, "oet_medicine")
    with pytest.raises(ValidationError) as exc:
        record_oet_result(
            milestone=oet,
            test_date=date(2025, 5, 1),
            listening=510,
            reading=350,
            speaking=350,
            writing=-1,
            by=user,
        )
    assert set(exc.value.message_dict) == {"listening", "writing"}


def test_usce_entries_need_an_end_after_the_start(planned_applicant, milestone_of):
    user = planned_applicant("US_IMG")
    with pytest.raises(ValidationError) as exc:
        add_usce_entry(
            milestone=milestone_of(user, "usce"),
            kind="externship",
            hands_on=True,
            specialty="Internal Medicine",
            site="Hospital",
            start_date=date(2026, 3, 1),
            end_date=date(2026, 2, 1),
            by=user,
        )
    assert "end_date" in exc.value.message_dict
