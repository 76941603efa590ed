"""The season's part in the page versions (milestones.versions): every season service that changes what an
applicant's pages show (the calendar feed's interviews, the dashboard's match, the advisor's copies and
cohort) bumps the applicant's version inside its own transaction, so no cached page outlives the change."""

from milestones.versions import changes_pathway

__all__ = ["changes_pathway", "of_applicant", "of_application", "of_interview", "of_letter"]


def of_applicant(kwargs):
    """For services that take `applicant=`."""
    return kwargs["applicant"]


def of_application(kwargs) -> int:
    """For services that take `application=`: its applicant."""
    return kwargs["application"].applicant_id


def of_letter(kwargs) -> int:
    """For services that take `letter=`: its applicant."""
    return kwargs["letter"].applicant_id


def of_interview(kwargs) -> int:
    """For services that take `interview=`: its application's applicant."""
    return kwargs["interview"].application.applicant_id
