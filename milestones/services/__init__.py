"""State changes of the pathway engine. Every function here is the only way to make that change.

Views, the API, the loader and the demo call these, never raw saves: the rules (prerequisites, attempt
limits, date sanity) live in one place. Each writes in one transaction and takes keyword arguments only.

Split by concern; this package re-exports the public names so callers keep `services.set_status(...)`:
planning (which milestones, when due), recompute (bulk deadline updates), status (moving a milestone
between states), evidence (results and documents that move it along), cycles (next year's cycle),
profiles (save a profile and re-plan), notes (the applicant's notes on a milestone) and comments (an
advisor's comments on a student's milestone).
"""

from .comments import CommentRefused, add_comment
from .cycles import copy_cycle_to_next_year
from .evidence import (
    EVIDENCE_MODELS,
    MAX_DAYS_AHEAD,
    add_document,
    add_usce_entry,
    record_exam_attempt,
    record_oet_result,
    remove_evidence,
)
from .notes import save_note
from .onboarding import record_steps_already_done
from .planning import applicant_dates, cycle_events, plan_pathway, template_applies
from .profiles import optional_templates_for, regenerate_calendar_token, save_profile, set_optional_step
from .recompute import UPDATE_CHUNK, DeadlinePreview, preview_deadline_changes, recompute_deadlines
from .status import (
    CLOSED,
    PrerequisiteMissing,
    Status,
    missing_hard_prerequisites,
    pass_waiting_for,
    set_status,
    waiting_sentence,
)

__all__ = [
    "CLOSED",
    "CommentRefused",
    "DeadlinePreview",
    "EVIDENCE_MODELS",
    "MAX_DAYS_AHEAD",
    "UPDATE_CHUNK",
    "PrerequisiteMissing",
    "Status",
    "add_comment",
    "add_document",
    "add_usce_entry",
    "applicant_dates",
    "copy_cycle_to_next_year",
    "cycle_events",
    "missing_hard_prerequisites",
    "pass_waiting_for",
    "optional_templates_for",
    "plan_pathway",
    "preview_deadline_changes",
    "recompute_deadlines",
    "record_steps_already_done",
    "record_exam_attempt",
    "record_oet_result",
    "remove_evidence",
    "save_note",
    "regenerate_calendar_token",
    "save_profile",
    "set_optional_step",
    "set_status",
    "template_applies",
    "waiting_sentence",
]
