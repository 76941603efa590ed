"""The cohort's version: what the cached cohort table of an advisor (or an admin) is keyed by.

One small query reads, for the viewer:
- their own version ("viewer:<id>", milestones.versions.viewer_changed): bumped by every change to their
  sharings (accepted, choices changed, ended; admin edits through the signals below) and their
  interview targets;
- the reference version (templates, cycles, rule tables);
- over the students they see now: how many, the sum of their ids and the sum of their page versions.
  Every service that changes a student's pathway bumps that student's version, and so do a change of
  their stored risk flags (pathway.advising.flags) and of their name, email, role or active state
  (the signal below). Versions only grow, so over an unchanged set of students any such change makes
  the sum grow; the set itself changes only through a sharing (the viewer's own version) or an account
  change (a bump of that student's version, and the count and the sum of ids move).

So a cohort table read after these numbers and stored under them is never served after a change.
"""

from __future__ import annotations

from django.db import connection

from milestones.models import PageVersion
from milestones.versions import REFERENCE, pathway_changed, viewer_changed, viewer_scope

from ..models import AdvisorAssignment, User

# Fields of a user the cohort shows or selects by; a save of other fields (last_login) bumps nothing.
_SHOWN_USER_FIELDS = frozenset({"name", "email", "role", "is_active"})


def cohort_version(viewer) -> str:
    """The viewer's cohort version as one string (plain SQL: it runs on every cohort request)."""
    users, versions = User._meta.db_table, PageVersion._meta.db_table
    assignments = AdvisorAssignment._meta.db_table
    if viewer.is_admin:
        join, params = "", []
    else:  # applicants_visible_to(advisor): an accepted sharing, not ended
        join = (
            f"JOIN {assignments} a ON a.applicant_id = u.id AND a.advisor_id = %s "
            "AND a.ended_at IS NULL AND a.accepted_at IS NOT NULL"
        )
        params = [viewer.pk]
    sql = (
        f"SELECT (SELECT version FROM {versions} WHERE scope = %s), "  # noqa: S608 - our own table names
        f"(SELECT version FROM {versions} WHERE scope = %s), "
        "COUNT(u.id), COALESCE(SUM(u.id), 0), COALESCE(SUM(v.version), 0) "
        f"FROM {users} u {join} "
        f"LEFT JOIN {versions} v ON v.scope = 'applicant:' || u.id "
        "WHERE u.role = %s AND u.is_active"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [viewer_scope(viewer.pk), REFERENCE, *params, User.Role.APPLICANT])
        row = cursor.fetchone()
    return ".".join(str(value or 0) for value in row)


def assignment_changed(sender, instance, raw=False, **kwargs) -> None:
    """post_save / post_delete of an AdvisorAssignment (the admin, a cascade): the advisor's cohort."""
    if not raw:
        viewer_changed(instance.advisor_id)


def target_changed(sender, instance, raw=False, **kwargs) -> None:
    """post_save / post_delete of an InterviewTarget: the advisor's cohort shows it."""
    if not raw:
        viewer_changed(instance.advisor_id)


def user_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    """post_save of a User: a student's name, email, role or active state is on their advisors' cohort."""
    if raw or created or (update_fields is not None and not _SHOWN_USER_FIELDS & set(update_fields)):
        return
    pathway_changed(instance.pk)
