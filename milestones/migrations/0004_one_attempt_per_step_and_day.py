"""One exam attempt per Step and day: merge the rows that double submissions left, then constrain."""

from django.db import migrations, models
from django.db.models import Count


def merge_same_day_attempts(apps, schema_editor):
    """Keep one row per (milestone, exam, test_date): the earliest, filled in from the later copies.

    The later copies were double submissions or a result added to a booked test; a copy's value only
    fills what the kept row lacks, so no recorded result is overwritten.
    """
    ExamAttempt = apps.get_model("milestones", "ExamAttempt")
    duplicated = (
        ExamAttempt.objects.values("milestone_id", "exam", "test_date")
        .annotate(rows=Count("pk"))
        .filter(rows__gt=1)
    )
    for group in duplicated:
        rows = list(
            ExamAttempt.objects.filter(
                milestone_id=group["milestone_id"], exam=group["exam"], test_date=group["test_date"]
            ).order_by("pk")
        )
        kept, copies = rows[0], rows[1:]
        for copy in copies:
            for name in ("result_date", "passed", "score"):
                if getattr(kept, name) is None:
                    setattr(kept, name, getattr(copy, name))
        kept.save(update_fields=["result_date", "passed", "score"])
        ExamAttempt.objects.filter(pk__in=[copy.pk for copy in copies]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("milestones", "0003_reminder_digests_and_sweep_index"),
    ]

    operations = [
        migrations.RunPython(merge_same_day_attempts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="examattempt",
            constraint=models.UniqueConstraint(
                fields=("milestone", "exam", "test_date"), name="one_attempt_per_step_and_day"
            ),
        ),
    ]
