"""factory_boy factories for the people and their pathways.

    UserFactory()                                  an applicant: user<n>@example.com, password PASSWORD
    UserFactory(advisor=True)                      an advisor
    UserFactory(admin=True)                        an admin (staff, via User.save, and superuser)
                                                   advisors and admins have an authenticator app (secret
                                                   TOTP_SECRET, codes from tests/mfa.py), as they must;
                                                   totp=False leaves it out, totp=True gives an applicant one
    ApplicantProfileFactory(user=u, ...)           a profile only: nothing planned yet
    PlannedProfileFactory(user=u, ...)             a profile, then milestones.services.plan_pathway(applicant=u)

Profile defaults: a non-US IMG who graduated on 30 June 2025, no visa, in the 2027 Match, on New York
time. `year=2028` picks another shipped cycle (`target_cycle=` an explicit one); `visa_route="J1"` implies
needs_visa=True. Both profile factories return the profile; `.user` is the applicant.

The cycles come from the shipped pathway data, so a test using a profile factory requests `pathway_data`
(or a fixture that does, such as `cycle_2027`).
"""

from __future__ import annotations

from datetime import date

import factory
from factory.django import DjangoModelFactory, Password

PASSWORD = "pw-for-tests-only"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32, as allauth generates them


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "pathway.User"
        skip_postgeneration_save = True

    class Params:
        advisor = factory.Trait(role="advisor")
        admin = factory.Trait(role="admin", is_superuser=True)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = ""
    role = "applicant"
    password = Password(PASSWORD)

    @factory.post_generation
    def totp(user, create, extracted, **kwargs):
        # Advisors and admins cannot use the site without a second factor (pathway.web.second_factor).
        wanted = extracted if extracted is not None else user.role != "applicant"
        if create and wanted:
            from allauth.mfa.totp.internal.auth import TOTP

            TOTP.activate(user, TOTP_SECRET)


def _cycle(year: int):
    from milestones.models import MatchCycle

    return MatchCycle.objects.get(year=year)


class ApplicantProfileFactory(DjangoModelFactory):
    class Meta:
        model = "milestones.ApplicantProfile"
        skip_postgeneration_save = True

    class Params:
        year = 2027

    user = factory.SubFactory(UserFactory)
    applicant_type = "NON_US_IMG"
    graduation_date = date(2025, 6, 30)
    visa_route = ""
    needs_visa = factory.LazyAttribute(lambda profile: bool(profile.visa_route))
    target_cycle = factory.LazyAttribute(lambda profile: _cycle(profile.year))
    time_zone = "America/New_York"


class PlannedProfileFactory(ApplicantProfileFactory):
    """An applicant with a planned pathway: the profile, then the real planning service."""

    @factory.post_generation
    def planned(profile, create, extracted, **kwargs):
        if create:
            from milestones.services import plan_pathway

            plan_pathway(applicant=profile.user)
