from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("milestones", "0007_audit_rule_tables"),
    ]

    operations = [
        migrations.AddField(
            model_name=model,
            name="contingency",
            field=models.BooleanField(
                default=False,
                help_text="Only needed if something goes wrong (e.g. SOAP): never shown as overdue.",
            ),
        )
        for model in ("milestonetemplate", "historicalmilestonetemplate")
    ] + [
        migrations.AddField(
            model_name=model,
            name="typical_days",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Shortest sensible time, in days, to do this step once its hard prerequisites are "
                "done (used to judge whether the target Match is still within reach).",
            ),
        )
        for model in ("milestonetemplate", "historicalmilestonetemplate")
    ]
