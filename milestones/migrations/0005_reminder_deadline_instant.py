"""A reminder belongs to a deadline instant (issue #10): `due_at` joins the unique key, cancelled rows no
longer block re-planning, and rows keep their Message-ID and the sweeper's retry schedule."""

from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def deadline_of_existing_rows(apps, schema_editor):
    """Existing rows are about their milestone's current deadline (or, without one, their send instant)."""
    Reminder = apps.get_model("milestones", "Reminder")
    Milestone = apps.get_model("milestones", "Milestone")
    Reminder.objects.filter(due_at__isnull=True).update(
        due_at=Subquery(Milestone.objects.filter(pk=OuterRef("milestone_id")).values("due_at")[:1])
    )
    Reminder.objects.filter(due_at__isnull=True).update(due_at=models.F("scheduled_for"))
    if schema_editor.connection.vendor == "postgresql":
        # The updates queued the table's deferred foreign-key checks, and PostgreSQL refuses to ALTER a
        # table with pending trigger events (the NOT NULL below): run the checks now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("milestones", "0004_one_attempt_per_step_and_day"),
    ]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="due_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(deadline_of_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reminder",
            name="due_at",
            field=models.DateTimeField(),
        ),
        migrations.RemoveConstraint(
            model_name="reminder",
            name="one_reminder_per_lead_time",
        ),
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.UniqueConstraint(
                condition=Q(("status", "cancelled"), _negated=True),
                fields=("milestone", "due_at", "lead_days", "channel"),
                name="one_reminder_per_deadline_and_lead_time",
            ),
        ),
        migrations.AddField(
            model_name="reminder",
            name="message_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="reminder",
            name="failures",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="reminder",
            name="retry_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="digestdelivery",
            name="message_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="digestdelivery",
            name="failures",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="digestdelivery",
            name="retry_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
