"""The profile's edit history stops recording the calendar token, a credential (the feed's URL).

Dropping the column also removes every token the existing history rows kept, including old addresses
an applicant replaced because they had leaked.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("milestones", "0005_reminder_deadline_instant"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="historicalapplicantprofile",
            name="calendar_token",
        ),
    ]
