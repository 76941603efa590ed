"""Run one reminder sweep by hand: what the beat tick does every five minutes."""

from django.core.management import BaseCommand

from milestones import tasks


class Command(BaseCommand):
    help = "Return stuck reminders to the queue, then plan and enqueue the reminders that have come due."

    def handle(self, *args, **options):
        requeued = tasks.requeue_and_enqueue()
        result = tasks.plan_and_enqueue()
        self.stdout.write(
            f"Planned {len(result.planned)} reminders ({len(result.enqueued)} enqueued, "
            f"{len(result.digests)} new digests); requeued {requeued}."
        )
