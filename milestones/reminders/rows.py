"""Loading a reminder for delivery: the row, its milestone, template, applicant and profile, and the
deadline an earlier reminder named, in one plain SQL query built once per process.

The ORM compiled the same select_related query (five tables and a subquery) on every email, and that
compile cost more CPU than the round trip itself (BENCHMARKS.md). The statement is written from the
models' own metadata, and the rows become real model instances through `Model.from_db`, with each
field's own conversion from the database (JSON fields), so the rest of delivery cannot tell the
difference.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.db import connection

from ..models import ApplicantProfile, Milestone, MilestoneTemplate, Reminder

# (alias, model) in the order their columns are selected; the profile may be missing (LEFT JOIN).
_TABLES = (("r", Reminder), ("m", Milestone), ("t", MilestoneTemplate), ("u", None), ("p", ApplicantProfile))


def _models():
    return [(alias, model or get_user_model()) for alias, model in _TABLES]


@functools.cache
def _statement(vendor: str) -> str:
    q = connection.ops.quote_name
    columns = [f"{alias}.{q(f.column)}" for alias, model in _models() for f in model._meta.concrete_fields]
    table = {alias: q(model._meta.db_table) for alias, model in _models()}
    # The deadline the latest sent reminder of this milestone named, if it is not this one's
    # (content.moved_from, as a subquery).
    moved_from = (
        f"(SELECT e.due_at FROM {table['r']} e WHERE e.milestone_id = r.milestone_id AND e.status = %s"
        " AND NOT (e.due_at = r.due_at) ORDER BY e.sent_at DESC, e.id DESC LIMIT 1)"
    )
    return (
        f"SELECT {', '.join(columns)}, {moved_from} FROM {table['r']} r"
        f" JOIN {table['m']} m ON m.id = r.milestone_id"
        f" JOIN {table['t']} t ON t.id = m.template_id"
        f" JOIN {table['u']} u ON u.id = m.applicant_id"
        f" LEFT JOIN {table['p']} p ON p.user_id = u.id"
        " WHERE r.id = %s"
    )


@functools.cache
def _converters(model, vendor: str) -> list[tuple]:
    """Per field of `model`: its column and the conversions the ORM would apply to its value, the
    backend's (SQLite hands datetimes back naive, as text underneath) and the field's own (JSON)."""
    return [_column_converters(model, field) for field in model._meta.concrete_fields]


def _column_converters(model, field) -> tuple:
    column = field.get_col(model._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


def _convert(value, column, converters):
    for converter in converters:
        value = converter(value, column, connection)
    return value


def _instance(model, values):
    fields = model._meta.concrete_fields
    values = [
        _convert(v, column, converters) if v is not None else v
        for (column, converters), v in zip(_converters(model, connection.vendor), values, strict=True)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def load_for_delivery(reminder_id: int) -> Reminder:
    """The reminder with milestone, template, applicant and profile (or None) attached, and
    `moved_from_due`; raises Reminder.DoesNotExist when there is no such row."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor), [Reminder.Status.SENT, reminder_id])
        row = cursor.fetchone()
    if row is None:
        raise Reminder.DoesNotExist(f"reminder {reminder_id}")
    objects, start = [], 0
    for _, model in _models():
        width = len(model._meta.concrete_fields)
        objects.append(_instance(model, row[start : start + width]))
        start += width
    reminder, milestone, template, user, profile = objects
    milestone.template, milestone.applicant = template, user
    user.profile = profile if profile.pk is not None else None
    reminder.milestone = milestone
    moved_from = row[start]
    if moved_from is not None:
        moved_from = _convert(moved_from, *_column_converters(Reminder, Reminder._meta.get_field("due_at")))
    reminder.moved_from_due = moved_from
    return reminder
