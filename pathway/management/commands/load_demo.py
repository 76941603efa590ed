"""Load the pathway data and the demo accounts. Idempotent: run it as often as you like."""

from allauth.account.models import EmailAddress
from django.core.management import BaseCommand, call_command
from django.db import transaction
from django.utils import timezone

from pathway.models import AdvisorAssignment, User

DEMO_PASSWORD = "pathway-demo"  # demo only; documented in the README
DEMO_USERS = [
    ("applicant@example.com", "Amira Haddad", User.Role.APPLICANT),
    ("advisor@example.com", "Ben Okafor", User.Role.ADVISOR),
    ("admin@example.com", "Carla Admin", User.Role.ADMIN),
]


class Command(BaseCommand):
    help = "Load the Match cycles, milestone templates and rules, then the demo accounts and pathway."

    def handle(self, *args, **options):
        call_command("load_pathway", verbosity=options["verbosity"])
        with transaction.atomic():
            users = {}
            for email, name, role in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name, role=role)
                    if role == User.Role.ADMIN:
                        user.is_superuser = True
                        user.save(update_fields=["is_superuser"])
                # Demo addresses count as verified so they can log in when verification is mandatory.
                EmailAddress.objects.update_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True}
                )
                users[role] = user
            AdvisorAssignment.objects.get_or_create(
                advisor=users[User.Role.ADVISOR],
                applicant=users[User.Role.APPLICANT],
                ended_at=None,
                defaults={"accepted_at": timezone.now()},
            )
            from milestones.demo import load_demo_pathway

            load_demo_pathway(applicant=users[User.Role.APPLICANT])
            from programs.demo import load_demo_programs

            load_demo_programs()
            from programs.season.demo import load_demo_season

            load_demo_season(applicant=users[User.Role.APPLICANT])
        # The demo advisor's cohort (issue 14): about forty students, each in its own transaction.
        from pathway.advising.demo import load_demo_cohort

        created = load_demo_cohort(advisor=users[User.Role.ADVISOR])
        if created:
            self.stdout.write(f"Demo cohort: {created} students share their pathway with the demo advisor.")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
