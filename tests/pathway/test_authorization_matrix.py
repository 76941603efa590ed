"""Every URL pattern × every persona. A URL missing from RULES fails the suite.

Personas: anonymous, amira (the applicant who owns the data), carla (another applicant),
ben (amira's advisor: she shares her pathway with him; she also has an open invitation to another
address and an admin's assignment waiting for her), dan (an advisor without students), root (admin), and four that must hold no
more rights than a simpler one:
- bearer: no session, amira's API token sent as `Authorization: Bearer ...`: the API answers as amira,
  the HTML pages as to anonymous (a token is no login);
- demoted: a former admin made advisor, without students: like dan (staff rights follow the role);
- ended: an advisor whose assignment to amira ended (AdvisorAssignment.ended_at set): like dan;
- inactive: amira herself, her account deactivated (is_active=False): like anonymous.
Strangers get 404, never 403: the page might as well not exist for them.

Each (URL, persona) is its own test, in its own savepoint over the module's world: nothing one persona
does (amira removing her evidence, revoking her token) is seen by another, so a 404 is never vacuous.
A 200 about amira must show her data; a stranger's answer never shows it, and never changes it, whatever
the HTTP method (see test_other_methods_never_reach_amiras_data).
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from ..conftest import make_amira, make_amira_profile, make_ben, make_carla, make_dan, make_root
from ..factories import PlannedProfileFactory, UserFactory

BASE_PERSONAS = ("anonymous", "amira", "carla", "ben", "dan", "root")
PERSONAS = (*BASE_PERSONAS, "bearer", "demoted", "ended", "inactive")
# Who must never reach amira's data, nor change it, by any method.
STRANGERS = ("carla", "dan", "demoted", "ended", "anonymous", "inactive")
# Who may change amira's data: she herself, and her token.
OWNERS = ("amira", "bearer")
METHODS = ("get", "post", "put", "patch", "delete")
LOGIN = "login"  # a redirect to the login page
REFUSED = (404, 405, 401, LOGIN)

# Markers of amira's data (and nobody else's).
AMIRA_EMAIL = "amira@example.com"
AMIRA_NAME = "Amira Haddad"
ECFMG_ID = "0-123-456-7"  # the reference of her ECFMG registration document
TOKEN_NAME = "amira-laptop-script"  # the name of her API token
AMIRA_TIME_ZONE = '"Africa/Cairo"'  # in the API's JSON (the HTML forms list every time zone)
INVITED_EMAIL = "invited-advisor@example.com"  # the address of amira's open invitation
SEASON_PROGRAM = "Fictional Matrix Medical Center"  # a listed program on amira's season list
SEASON_NOTE = "amira-season-note-4417"  # her note on that application
LETTER_WRITER = "Dr. Wren Matrixwriter"  # the writer of her letter of recommendation
AMIRA_MARKERS = (AMIRA_EMAIL, AMIRA_NAME, ECFMG_ID, TOKEN_NAME, INVITED_EMAIL, SEASON_NOTE, LETTER_WRITER)
# A program amira added to her own list (unlisted: the directory shows it to her, advisors and admins).
OWN_PROGRAM = "Fictional Cedarbloom Own Clinic"


@dataclass(frozen=True)
class Rule:
    expect: dict  # persona -> status code, or LOGIN; the four later personas default as described above
    method: str = "get"
    kwargs: dict = field(default_factory=dict)  # names resolved against the world fixture
    data: dict = field(default_factory=dict)
    shows: tuple = ()  # markers of amira's data a 200 must contain when it is about her
    shown_to: tuple = ("amira", "bearer", "ben", "root")  # whose 200 is about amira
    # The URL holds a credential of amira's (calendar feed, unsubscribe link): whoever has it sees her data.
    credential_in_url: bool = False
    may_change: tuple = ()  # "table.column" of amira's data anyone with the URL may change


def expected(name: str, rule: Rule, persona: str):
    if persona in rule.expect:
        return rule.expect[persona]
    like = {
        "bearer": "amira" if name.startswith("api:") else "anonymous",
        "demoted": "dan",
        "ended": "dan",
        "inactive": "anonymous",
    }[persona]
    return rule.expect[like]


def everyone(status, **overrides):
    return dict.fromkeys(BASE_PERSONAS, status) | overrides


def applicant_only(own=200, **overrides):
    """Pages about the logged-in applicant's own data: other roles get 404."""
    return {"anonymous": LOGIN, "amira": own, "carla": own, "ben": 404, "dan": 404, "root": 404} | overrides


ACCOUNT_PUBLIC = everyone(200)

RULES: dict[str, Rule] = {
    # pathway
    "home": Rule({"anonymous": 200, "amira": 302, "carla": 302, "ben": 302, "dan": 302, "root": 200}),
    "healthz": Rule(everyone(200)),
    # ben and root see amira listed; dan, the demoted admin and the advisor whose assignment ended see an
    # empty list (the check that no stranger sees a marker of amira's covers them).
    # The former list of students sends advisors and admins to the cohort that replaced it.
    "advisor:student_list": Rule({"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 302, "dan": 302, "root": 302}),
    # The cohort, its CSV and its picture: ben and root see amira listed (root: every applicant); dan,
    # the demoted admin and the advisor whose assignment ended see an empty cohort.
    "advisor:cohort": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 200},
        shows=(AMIRA_NAME,),
        shown_to=("ben", "root"),
    ),
    "advisor:cohort_csv": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 200},
        shows=(AMIRA_NAME, AMIRA_EMAIL),
        shown_to=("ben", "root"),
    ),
    "advisor:cohort_picture": Rule({"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 200}),
    # An advisor's own settings (interview targets, weekly digest): advisors only.
    "advisor:workspace_settings": Rule({"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 404}),
    # The digest's signed one-click opt-out link (ben's): the token is the authentication, like the
    # reminders' unsubscribe; it names ben, not amira, and all it can do is stop ben's digest.
    "advisor:digest_opt_out": Rule(everyone(200), kwargs={"token": "digest.token"}, credential_in_url=True),
    "advisor:student_detail": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 200, "dan": 404, "root": 200},
        kwargs={"pk": "amira.pk"},
        shows=(AMIRA_NAME,),
    ),
    "advisor:student_timeline": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 200, "dan": 404, "root": 200},
        kwargs={"pk": "amira.pk"},
        shows=(AMIRA_NAME,),
    ),
    # Her season list, read-only (issue 13 in issue 14's student review): the program, never her notes
    # unless she shares them (ben's sharing leaves notes off).
    "advisor:student_programs": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 200, "dan": 404, "root": 200},
        kwargs={"pk": "amira.pk"},
        shows=(AMIRA_NAME, SEASON_PROGRAM),
    ),
    # A comment without text is refused (422) for her advisor; nobody else may comment (admins neither).
    "advisor:student_comment": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 422, "dan": 404, "root": 404},
        method="post",
        kwargs={"pk": "amira.pk", "key": "ecfmg_registration"},
    ),
    # Invitations to the advisor's own address: amira's (to someone else) is nobody's here to accept.
    "advisor:invitations": Rule({"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 404}),
    "advisor:invitation_accept": Rule(
        everyone(404, anonymous=LOGIN), method="post", kwargs={"pk": "invitation.pk"}
    ),
    # Sharing with advisors: amira manages her own sharings and invitations, nobody else's.
    "applicant:sharing": Rule(applicant_only(), shows=(AMIRA_EMAIL, "Ben Okafor", INVITED_EMAIL)),
    "applicant:sharing_invite": Rule(applicant_only(own=422), method="post"),
    "applicant:sharing_withdraw": Rule(
        applicant_only(own=302, carla=404), method="post", kwargs={"pk": "invitation.pk"}
    ),
    "applicant:sharing_accept": Rule(applicant_only(own=302, carla=404), method="post", kwargs={"pk": "pending.pk"}),
    "applicant:sharing_update": Rule(applicant_only(own=302, carla=404), method="post", kwargs={"pk": "sharing.pk"}),
    "applicant:sharing_end": Rule(applicant_only(own=302, carla=404), method="post", kwargs={"pk": "sharing.pk"}),
    # applicant pages: each applicant reaches only their own pathway through these URLs
    "applicant:onboarding": Rule(applicant_only(own=302)),  # already onboarded: sent to the profile settings
    "applicant:dashboard": Rule(applicant_only(), shows=(AMIRA_EMAIL,)),
    "applicant:dashboard_progress": Rule(applicant_only(own=302)),  # a fragment; without htmx, the dashboard
    "applicant:timeline": Rule(applicant_only(), shows=(AMIRA_EMAIL,)),
    "applicant:milestone_detail": Rule(
        applicant_only(), kwargs={"key": "ecfmg_registration"}, shows=(ECFMG_ID,)
    ),
    "applicant:milestone_status": Rule(applicant_only(own=422), method="post", kwargs={"key": "usmle_step2ck"}),
    "applicant:milestone_attempt": Rule(applicant_only(own=422), method="post", kwargs={"key": "usmle_step2ck"}),
    "applicant:milestone_oet": Rule(applicant_only(own=422), method="post", kwargs={"key": "oet_medicine"}),
    "applicant:milestone_document": Rule(applicant_only(own=422), method="post", kwargs={"key": "ecfmg_registration"}),
    "applicant:milestone_usce": Rule(applicant_only(own=422), method="post", kwargs={"key": "usce"}),
    "applicant:milestone_note": Rule(applicant_only(own=302), method="post", kwargs={"key": "usmle_step2ck"}),
    # Removing one of amira's evidence rows: amira removes it and is redirected back (no-JS); nobody else
    # reaches it (each persona meets the row still there: a 404 is a refusal, not a row already gone).
    "applicant:milestone_evidence_delete": Rule(
        applicant_only(own=302, carla=404),
        method="post",
        kwargs={"key": "ecfmg_registration", "kind": "document", "pk": "doc.pk"},
    ),
    "advisor:student_milestone": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 200, "dan": 404, "root": 200},
        kwargs={"pk": "amira.pk", "key": "ecfmg_registration"},
        shows=(AMIRA_NAME, ECFMG_ID),
    ),
    # Pathway choices (POST, no data): refused with a message and a redirect, nothing changed.
    "applicant:switch_cycle": Rule(applicant_only(own=302), method="post"),
    "applicant:optional_step": Rule(applicant_only(own=302), method="post"),
    "applicant:settings": Rule(applicant_only(), shows=(AMIRA_EMAIL,)),
    "applicant:settings_profile": Rule(applicant_only(), shows=(AMIRA_EMAIL,)),
    "applicant:export_json": Rule(applicant_only(), shows=(AMIRA_EMAIL, AMIRA_NAME, ECFMG_ID)),
    "applicant:export_csv": Rule(applicant_only(), shows=(AMIRA_EMAIL, AMIRA_NAME, ECFMG_ID)),
    "applicant:account_delete": Rule(applicant_only()),
    "applicant:api_tokens": Rule(applicant_only(), shows=(TOKEN_NAME,)),
    "applicant:api_token_revoke": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 404, "dan": 404, "root": 404},
        method="post",
        kwargs={"pk": "token.pk"},
    ),
    "applicant:calendar_regenerate": Rule(applicant_only(own=302), method="post"),
    # The feed's secret token is its authentication (calendar apps cannot log in).
    "applicant:calendar_feed": Rule(
        everyone(200, inactive=404), kwargs={"token": "profile.calendar_token"}, credential_in_url=True
    ),
    # The signed token is the authentication: a one-click unsubscribe needs no login.
    "applicant:reminder_unsubscribe": Rule(
        everyone(200),
        kwargs={"token": "unsubscribe.token"},
        credential_in_url=True,
        may_change=("profile.email_reminders",),  # all it can do: switch her reminders off (a POST)
    ),
    # The application season (issue 13, part A): each applicant's own list, letters and interviews.
    "applicant:season_programs": Rule(applicant_only(), shows=(SEASON_PROGRAM,)),
    "applicant:season_programs_csv": Rule(applicant_only(), shows=(SEASON_NOTE,)),
    "applicant:season_add": Rule(applicant_only()),
    "applicant:season_application": Rule(
        applicant_only(carla=404), kwargs={"pk": "application.pk"}, shows=(SEASON_NOTE,)
    ),
    "applicant:season_status": Rule(applicant_only(own=422, carla=404), method="post", kwargs={"pk": "application.pk"}),
    "applicant:season_notes": Rule(applicant_only(own=302, carla=404), method="post", kwargs={"pk": "application.pk"}),
    "applicant:season_signal": Rule(applicant_only(own=302, carla=404), method="post", kwargs={"pk": "application.pk"}),
    "applicant:season_interview": Rule(
        applicant_only(own=422, carla=404), method="post", kwargs={"pk": "application.pk"}
    ),
    "applicant:season_scores": Rule(applicant_only(own=422, carla=404), method="post", kwargs={"pk": "application.pk"}),
    "applicant:season_costs": Rule(applicant_only()),
    "applicant:season_signals": Rule(applicant_only()),
    "applicant:season_interviews": Rule(applicant_only()),
    "applicant:season_criterion_delete": Rule(
        applicant_only(own=302, carla=404), method="post", kwargs={"pk": "criterion.pk"}
    ),
    "applicant:season_letters": Rule(applicant_only(), shows=(LETTER_WRITER,)),
    "applicant:season_letter": Rule(applicant_only(carla=404), kwargs={"pk": "letter.pk"}, shows=(LETTER_WRITER,)),
    "applicant:season_letter_assign": Rule(applicant_only(own=422, carla=404), method="post", kwargs={"pk": "letter.pk"}),
    "applicant:season_letter_unassign": Rule(
        applicant_only(own=302, carla=404), method="post", kwargs={"pk": "letter.pk", "application": "application.pk"}
    ),
    "applicant:season_letter_delete": Rule(applicant_only(own=302, carla=404), method="post", kwargs={"pk": "letter.pk"}),
    # The season's end (issue 13, part B): the rank order list, Match Week and SOAP; ids go in the POST
    # body and the services look them up among the caller's own rows, so a form without them is refused.
    "applicant:season_rol": Rule(applicant_only(), shows=(SEASON_PROGRAM,)),
    "applicant:season_rol_order": Rule(applicant_only(own=422), method="post"),
    "applicant:season_rol_add": Rule(applicant_only(own=422), method="post"),
    "applicant:season_rol_supplemental": Rule(applicant_only(own=422), method="post"),
    "applicant:season_rol_supplemental_delete": Rule(applicant_only(own=422), method="post"),
    "applicant:season_rol_certify": Rule(applicant_only(own=422), method="post"),
    "applicant:season_match": Rule(applicant_only()),
    "applicant:season_match_status": Rule(applicant_only(own=422), method="post"),
    "applicant:season_match_program": Rule(applicant_only(own=422), method="post"),
    "applicant:season_soap_apply": Rule(applicant_only(own=422), method="post"),
    "applicant:season_soap_offer": Rule(applicant_only(own=422), method="post"),
    "applicant:season_soap_answer": Rule(applicant_only(own=422), method="post"),
    # JSON API: 401 without credentials; the pathway belongs to the caller.
    "api:api-root": Rule(everyone(404)),
    "api:openapi-json": Rule(everyone(200)),
    "api:get_pathway": Rule(applicant_only() | {"anonymous": 401}, shows=(AMIRA_TIME_ZONE,)),
    "api:update_milestone": Rule(
        applicant_only() | {"anonymous": 401},
        method="patch",
        kwargs={"key": "usmle_step2ck"},
        data={"status": "in_progress"},
    ),
    "api:create_attempt": Rule(
        applicant_only(own=201) | {"anonymous": 401},
        method="post_json",
        kwargs={"key": "usmle_step2ck"},
        data={"test_date": "2026-10-01"},
    ),
    # The season's API (issue 13, part B): the caller's own season only. Ids that are no row of the
    # caller's (999999999) or a body the rules refuse give 422 and change nothing; another applicant's
    # application or letter in the URL is 404.
    "api:list_applications": Rule(applicant_only() | {"anonymous": 401}, shows=(SEASON_PROGRAM,)),
    "api:update_application_status": Rule(
        applicant_only(carla=404) | {"anonymous": 401}, method="patch", kwargs={"pk": "application.pk"},
        data={"status": "applied"},
    ),
    "api:update_application_signal": Rule(
        applicant_only(carla=404) | {"anonymous": 401}, method="put", kwargs={"pk": "application.pk"},
        data={"signal": ""},
    ),
    "api:assign_letter": Rule(
        applicant_only(own=422, carla=404) | {"anonymous": 401}, method="post_json", kwargs={"pk": "letter.pk"},
        data={"application": 999999999},
    ),
    "api:unassign_letter": Rule(
        applicant_only(own=204, carla=404) | {"anonymous": 401}, method="delete",
        kwargs={"pk": "letter.pk", "application": "application.pk"},
    ),
    "api:get_rank_order_list": Rule(applicant_only() | {"anonymous": 401}, shows=(SEASON_PROGRAM,)),
    # amira's list holds a program, so an empty order is refused; carla's is empty, so it is no change.
    "api:reorder_rank_order_list": Rule(
        applicant_only(own=422, carla=200) | {"anonymous": 401}, method="put", data={"version": 0, "order": []}
    ),
    "api:add_rank": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"version": 0, "application": 999999999}
    ),
    "api:remove_rank": Rule(  # without ?version= (required)
        applicant_only(own=422) | {"anonymous": 401}, method="delete", kwargs={"application": "application.pk"}
    ),
    "api:create_supplemental_list": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"version": 0, "name": "", "advanced": []}
    ),
    "api:certify_rank_order_list": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"version": 999}
    ),
    "api:get_match": Rule(applicant_only() | {"anonymous": 401}),
    # Before Match Week the status is not released yet; after it, amira's list is not certified: 422.
    "api:record_match_status": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"status": "unmatched"}
    ),
    "api:record_matched_program": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"application": 999999999}
    ),
    "api:add_soap_application": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"program": 999999999}
    ),
    "api:record_soap_offer": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", data={"application": 999999999}
    ),
    "api:accept_soap_offer": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", kwargs={"pk": 999999999}
    ),
    "api:decline_soap_offer": Rule(
        applicant_only(own=422) | {"anonymous": 401}, method="post_json", kwargs={"pk": 999999999}
    ),
    "api:get_cycle": Rule(everyone(200, anonymous=401), kwargs={"year": 2027}),
    # The program directory: every signed-in role reads it; applicants keep their own list; advisors and
    # admins review reports (amira filed the open one). Refused reports (no data) are 422, nothing saved.
    "directory:program_list": Rule(everyone(200, anonymous=LOGIN)),
    "directory:program_detail": Rule(everyone(200, anonymous=LOGIN), kwargs={"pk": "program.pk"}),
    "directory:program_report": Rule(everyone(422, anonymous=LOGIN), method="post", kwargs={"pk": "program.pk"}),
    "directory:program_add": Rule(applicant_only(own=302), method="post", kwargs={"pk": "program.pk"}),
    "directory:program_remove": Rule(applicant_only(own=302), method="post", kwargs={"pk": "program.pk"}),
    "directory:my_programs": Rule(applicant_only(), shows=(OWN_PROGRAM,), shown_to=("amira",)),
    "directory:review_queue": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 200}
    ),
    "directory:report_accept": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 302, "dan": 302, "root": 302},
        method="post",
        kwargs={"pk": "report.pk"},
    ),
    "directory:report_dismiss": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 302, "dan": 302, "root": 302},
        method="post",
        kwargs={"pk": "report.pk"},
    ),
    "api:list_programs": Rule(everyone(200, anonymous=401)),
    "api:get_program": Rule(everyone(200, anonymous=401), kwargs={"program_code": "program.nrmp_code"}),
    "api:add_my_program": Rule(
        applicant_only() | {"anonymous": 401}, method="post_json", data={"nrmp_code": "9999140C0"}
    ),
    # allauth account pages
    "account_login": Rule(everyone(200, amira=302, carla=302, ben=302, dan=302, root=302)),
    "account_signup": Rule(everyone(200, amira=302, carla=302, ben=302, dan=302, root=302)),
    "account_logout": Rule(everyone(200, anonymous=302)),
    "account_inactive": Rule(everyone(200)),
    "account_reauthenticate": Rule(everyone(200, anonymous=LOGIN)),
    "account_email": Rule(everyone(200, anonymous=LOGIN)),
    "account_email_verification_sent": Rule(everyone(200)),
    "account_change_password": Rule(everyone(200, anonymous=LOGIN)),
    "account_set_password": Rule(everyone(302, anonymous=LOGIN)),
    "account_reset_password": Rule(everyone(200)),
    "account_reset_password_done": Rule(everyone(200)),
    "account_confirm_login_code": Rule(everyone(302)),
    # A bad key shows allauth's "invalid or expired link" page, for everyone alike.
    "account_confirm_email": Rule(everyone(200), kwargs={"key": "not-a-real-key"}),
    # A bad key shows the "invalid link" page.
    "account_reset_password_from_key": Rule(everyone(200), kwargs={"uidb36": "zz", "key": "bad-key"}),
    "account_reset_password_from_key_done": Rule(everyone(200)),
    # Account security, every role: signing out everywhere ends at the login page.
    "account_security": Rule(everyone(200, anonymous=LOGIN)),
    "sign_out_everywhere": Rule(everyone(LOGIN), method="post"),
    "usersessions_list": Rule(everyone(200, anonymous=LOGIN)),
    # allauth.mfa (advisors and admins in the world have an authenticator app; applicants have none).
    # Changing second factors asks for the password again first (302 to reauthenticate); the login step
    # without a login under way sends everyone away.
    "mfa_index": Rule(everyone(200, anonymous=LOGIN)),
    "mfa_authenticate": Rule(everyone(302, anonymous=LOGIN)),
    "mfa_reauthenticate": Rule(everyone(200, anonymous=LOGIN, amira=302, carla=302)),
    "mfa_activate_totp": Rule(everyone(302, anonymous=LOGIN)),
    "mfa_deactivate_totp": Rule(everyone(302, anonymous=LOGIN, amira=404, carla=404)),
    "mfa_view_recovery_codes": Rule(everyone(404, anonymous=LOGIN)),
    "mfa_download_recovery_codes": Rule(everyone(404, anonymous=LOGIN)),
    "mfa_generate_recovery_codes": Rule(everyone(302, anonymous=LOGIN)),
    "mfa_list_webauthn": Rule(everyone(200, anonymous=LOGIN)),
    "mfa_add_webauthn": Rule(everyone(302, anonymous=LOGIN)),
    "mfa_reauthenticate_webauthn": Rule(everyone(302, anonymous=LOGIN)),
    "mfa_edit_webauthn": Rule(everyone(302, anonymous=LOGIN), kwargs={"pk": 1}),
    "mfa_remove_webauthn": Rule(everyone(302, anonymous=LOGIN), kwargs={"pk": 1}),
}

# The admin site: only admins get in; everyone else is sent to the admin login page. Admins may
# still meet 403 where an action is switched off (profiles are created by onboarding, not "add").
ADMIN_RULE = dict.fromkeys(PERSONAS, 302) | {"root": (200, 302, 403, 404)}
# The autocomplete endpoint answers 403 to a request without its parameters, even for admins.
ADMIN_QUERIES = {"admin:autocomplete": {"app_label": "pathway", "model_name": "advisorassignment", "field_name": "advisor"}}
ADMIN_KWARGS = {"app_label": "milestones", "object_id": "1", "content_type_id": "1", "id": "1"}


def walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern


def all_url_names():
    return sorted({name for name, _ in walk(get_resolver().url_patterns)}, key=str)


def test_every_url_is_in_the_matrix():
    names = all_url_names()
    assert None not in names, "every URL pattern needs a name so the matrix can classify it"
    unclassified = [n for n in names if n not in RULES and not n.startswith("admin:")]
    assert not unclassified, f"classify these URLs in RULES: {unclassified}"
    stale = [n for n in RULES if n not in names]
    assert not stale, f"RULES names URLs that no longer exist: {stale}"


def make_demoted():
    """A former admin, now an advisor without students (the role change took the staff rights away)."""
    user = UserFactory(admin=True, email="demoted@example.com", name="Demi Former-Admin")
    user.role = "advisor"
    user.save()
    assert not (user.is_staff or user.is_superuser)
    return user


def make_ended(amira):
    """An advisor who advised amira once: the assignment has ended."""
    from django.utils import timezone

    from pathway.models import AdvisorAssignment

    advisor = UserFactory(advisor=True, email="ended@example.com", name="Ed Formerly-Assigned")
    AdvisorAssignment.objects.create(
        advisor=advisor, applicant=amira, accepted_at=timezone.now(), ended_at=timezone.now()
    )
    return advisor


def build_world() -> dict:
    from django.core.management import call_command

    from milestones.models import MatchCycle, Milestone, MilestoneTemplate
    from milestones.reminders import unsubscribe_token
    from milestones.services import add_document
    from pathway.advising.digest import opt_out_token
    from pathway.models import AdvisorAssignment
    from pathway.sharing import invite_advisor
    from pathway.tokens import api_token_create

    if not MilestoneTemplate.objects.exists():
        call_command("load_pathway", verbosity=0)
    amira = make_amira()
    profile = make_amira_profile(amira, MatchCycle.objects.get(year=2027))
    carla = make_carla()
    PlannedProfileFactory(
        user=carla,
        applicant_type="US_IMG",
        graduation_date=date(2025, 5, 31),
        target_cycle=profile.target_cycle,
        time_zone="America/Chicago",
    )
    token, secret = api_token_create(user=amira, name=TOKEN_NAME)
    season = build_season_a(amira, profile.target_cycle)
    doc = add_document(
        milestone=Milestone.objects.get(applicant=amira, template__key="ecfmg_registration"),
        label="ECFMG ID",
        reference=ECFMG_ID,
        by=amira,
    )
    ben = make_ben(amira)
    program, report = build_directory(amira)
    return {
        "sharing": AdvisorAssignment.objects.get(advisor=ben, applicant=amira),
        "pending": AdvisorAssignment.objects.create(
            advisor=UserFactory(advisor=True, email="pending@example.com", name="Pat Pending"), applicant=amira
        ),
        "invitation": invite_advisor(applicant=amira, email=INVITED_EMAIL),
        "program": program,
        "report": report,
        "token": token,
        "secret": secret,
        "doc": doc,
        "unsubscribe": SimpleNamespace(token=unsubscribe_token(amira)),
        "digest": SimpleNamespace(token=opt_out_token(ben)),
        "amira": amira,
        "carla": carla,
        "ben": ben,
        "dan": make_dan(),
        "root": make_root(),
        "demoted": make_demoted(),
        "ended": make_ended(amira),
        "profile": profile,
        **season,
    }


def build_season_a(amira, cycle) -> dict:
    """Amira's season: one program on her list (with a note), a letter assigned to it, a criterion."""
    from programs.loader import ensure_specialties
    from programs.models import Program, Specialty
    from programs.season.applications import add_application, update_application
    from programs.season.letters import assign_letter, save_letter
    from programs.season.loader import load_season_rules
    from programs.season.models import Criterion, Letter

    ensure_specialties()
    load_season_rules()
    program = Program.objects.create(
        nrmp_code="9999140C9", name=SEASON_PROGRAM, specialty=Specialty.objects.get(acgme_code="140"),
        state="NY", origin="demo",
    )
    application, _ = add_application(applicant=amira, program=program, cycle=cycle, by=amira)
    update_application(application=application, notes=SEASON_NOTE, letters_required=3)
    letter = save_letter(letter=Letter(applicant=amira, cycle=cycle, writer=LETTER_WRITER, status="uploaded"))
    assign_letter(letter=letter, application=application)
    criterion = Criterion.objects.create(applicant=amira, name="Teaching", weight=3)
    build_season_b(amira, cycle, application)
    return {"application": application, "letter": letter, "criterion": criterion}


def build_season_b(amira, cycle, application) -> None:
    """Amira's rank order list: the program of her season list at rank 1."""
    from programs.season.match_rules import load_match_rules
    from programs.season.rol import add_rank

    load_match_rules()
    add_rank(applicant=amira, cycle=cycle, application_id=application.pk, version=0, by=amira)


def build_directory(amira):
    """A listed program with claims, an open report on it by amira, and a program only amira added."""
    from programs.loader import load_specialties
    from programs.models import Program, Specialty
    from programs.services.claims import record_claim
    from programs.services.own import add_own_program
    from programs.services.reports import report_outdated

    load_specialties()
    program = Program.objects.create(
        nrmp_code="9999140C0", name="Fictional Matrix Internal Medicine", state="NY",
        specialty=Specialty.objects.get(acgme_code="140"),
    )
    record_claim(program=program, requirement="visa_j1", value="yes", source_url="https://example.org/matrix",
                 source_kind="program_website", observed_on=date(2026, 11, 1))
    report = report_outdated(program=program, requirement="visa_j1", by=amira, proposed_value="no",
                             message="The site says no J-1 this year.")
    add_own_program(applicant=amira, name=OWN_PROGRAM, state="NY")
    return program, report


@pytest.fixture(scope="module")
def _world_of_this_module(django_db_setup, django_db_blocker):
    """The world, built once for the module's tests (each would otherwise plan two pathways first), like
    Django's setUpTestData: inside a transaction left open while they run, so each test's own
    transaction is a savepoint in it, rolled back after the test; this one is rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def world(pathway_data, _world_of_this_module):
    """Everything the matrix's kwargs refer to (a copy per test: what one test does to the objects in
    memory, such as a login's last_login, stays out of the next)."""
    return copy.deepcopy(_world_of_this_module)


def resolve_kwargs(kwargs, world):
    resolved = {}
    for key, expr in kwargs.items():
        if isinstance(expr, str) and "." in expr and expr.split(".")[0] in world:
            obj_name, attr = expr.split(".", 1)
            value = world[obj_name]
            for part in attr.split("."):
                value = getattr(value, part)
            resolved[key] = value
        else:
            resolved[key] = expr
    return resolved


_SNAPSHOT_SQL: dict = {}  # amira's pk -> the snapshot's queries, compiled once (the ORM would dominate)


def _snapshot_queries(amira: int) -> list:
    from milestones.models import ApplicantProfile, Milestone, MilestoneComment
    from milestones.services import EVIDENCE_MODELS
    from pathway.models import AdvisorAssignment, AdvisorInvitation, ApiToken, User
    from programs.season.match_models import MatchOutcome, Rank, RankOrderList, SoapApplication
    from programs.season.models import Application, Criterion, Letter, LetterAssignment

    def columns(model, *left_out):
        return [f.attname for f in model._meta.concrete_fields if f.attname not in left_out]

    querysets = {
        # Her last login and her token's last use are left out: using them is not changing them.
        "user": User.objects.filter(pk=amira).values(*columns(User, "last_login")),
        "profile": ApplicantProfile.objects.filter(user=amira).values(*columns(ApplicantProfile)),
        "milestones": Milestone.objects.filter(applicant=amira).values(*columns(Milestone)),
        "tokens": ApiToken.objects.filter(user=amira).values(*columns(ApiToken, "last_used_at")),
        "advisors": AdvisorAssignment.objects.filter(applicant=amira).values(*columns(AdvisorAssignment)),
        "invitations": AdvisorInvitation.objects.filter(applicant=amira).values(*columns(AdvisorInvitation)),
        "comments": MilestoneComment.objects.filter(milestone__applicant=amira).values(*columns(MilestoneComment)),
        "applications": Application.objects.filter(applicant=amira).values(*columns(Application)),
        "letters": Letter.objects.filter(applicant=amira).values(*columns(Letter)),
        "assignments": LetterAssignment.objects.filter(letter__applicant=amira).values(*columns(LetterAssignment)),
        "criteria": Criterion.objects.filter(applicant=amira).values(*columns(Criterion)),
        "rank_order_lists": RankOrderList.objects.filter(applicant=amira).values(*columns(RankOrderList)),
        "ranks": Rank.objects.filter(rank_list__rol__applicant=amira).values(*columns(Rank)),
        "match_outcomes": MatchOutcome.objects.filter(applicant=amira).values(*columns(MatchOutcome)),
        "soap_applications": SoapApplication.objects.filter(outcome__applicant=amira).values(*columns(SoapApplication)),
    } | {
        kind: model.objects.filter(milestone__applicant=amira).values(*columns(model))
        for kind, model in EVIDENCE_MODELS.items()
    }
    queries = []
    for table, queryset in querysets.items():
        sql, params = queryset.order_by("pk").query.sql_with_params()
        queries.append((table, list(queryset.query.values_select), sql, params))
    return queries


def amiras_data(world) -> dict:
    """Everything of amira's a request could change (her account, profile, pathway, evidence, tokens,
    advisors): table -> rows, each a dict of column -> value."""
    from django.db import connection

    amira = world["amira"].pk
    if amira not in _SNAPSHOT_SQL:
        _SNAPSHOT_SQL[amira] = _snapshot_queries(amira)
    data = {}
    with connection.cursor() as cursor:
        for table, names, sql, params in _SNAPSHOT_SQL[amira]:
            cursor.execute(sql, params)
            data[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return data


def assert_unchanged(before, world, rule, where):
    after = amiras_data(world)
    for table_field in rule.may_change:
        table, column = table_field.split(".")
        for rows in (before, after):
            for row in rows[table]:
                row.pop(column, None)
    changed = sorted(table for table in before if before[table] != after[table])
    assert not changed, f"{where} changed amira's data: {changed}"


def become(client, persona, world) -> dict:
    """Log the client in as `persona` (out first, if it was in); returns the headers its requests carry."""
    if client.cookies.get(settings.SESSION_COOKIE_NAME):
        client.logout()
    if persona == "bearer":
        return {"Authorization": f"Bearer {world['secret']}"}
    if persona == "inactive":
        from pathway.models import User

        User.objects.filter(pk=world["amira"].pk).update(is_active=False)
        world["amira"].is_active = False
        client.force_login(world["amira"])
    elif persona != "anonymous":
        client.force_login(world[persona])
    return {}


def logged_out(client) -> bool:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie is None or not cookie.value


def send(client, method, url, data=None, headers=None):
    headers = headers or {}
    if method in ("patch", "put", "delete"):
        return getattr(client, method)(
            url, json.dumps(data or {}), content_type="application/json", headers=headers
        )
    if method == "post_json":
        return client.post(url, json.dumps(data or {}), content_type="application/json", headers=headers)
    return getattr(client, method)(url, data or {}, headers=headers)


def assert_status(response, persona, method, url, expect):
    allowed = expect if isinstance(expect, tuple) else (expect,)
    where = f"{persona} {method.upper()} {url}"
    if response.status_code == 302 and LOGIN in allowed and "/accounts/login/" in response["Location"]:
        return
    location = f" -> {response['Location']}" if response.has_header("Location") else ""
    assert response.status_code in allowed, f"{where}: {response.status_code}{location} (expected {allowed})"


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def check(client, persona, world, method, url, expect, data=None):
    """One request as `persona`; the status must be `expect`. Returns the response."""
    headers = become(client, persona, world)
    response = send(client, method, url, data, headers)
    assert_status(response, persona, method, url, expect)
    return response


def assert_no_marker_of_amira(response, persona, url, extra=()):
    text = body(response)
    seen = [marker for marker in (*AMIRA_MARKERS, *extra) if marker in text]
    assert not seen, f"{persona} {url}: the answer shows amira's data {seen}"


def matrix_cases():
    return [pytest.param(name, persona, id=f"{name}-{persona}") for name in RULES for persona in PERSONAS]


@pytest.mark.parametrize(("name", "persona"), matrix_cases())
def test_the_matrix(client, world, name, persona):
    """One persona, one URL, in a world nobody else has touched."""
    from django.urls import reverse

    rule = RULES[name]
    url = reverse(name, kwargs=resolve_kwargs(rule.kwargs, world))
    headers = become(client, persona, world)  # "inactive": amira deactivated before her data is recorded
    before = amiras_data(world)
    response = send(client, rule.method, url, rule.data, headers)
    assert_status(response, persona, rule.method, url, expected(name, rule, persona))
    if persona not in OWNERS:
        assert_unchanged(before, world, rule, f"{persona} {rule.method.upper()} {url}")
    if response.status_code != 200 or rule.method != "get":
        return
    if persona in rule.shown_to and rule.shows:
        text = body(response)
        missing = [marker for marker in rule.shows if marker not in text]
        assert not missing, f"{persona} {url}: 200 without amira's data {missing}"
    elif persona in STRANGERS and not rule.credential_in_url:
        # carla's own pages, dan's empty student list, the account pages: nothing of amira's.
        extra = (AMIRA_TIME_ZONE,) if name.startswith("api:") else ()
        assert_no_marker_of_amira(response, persona, url, extra)


def other_methods_cases():
    return [pytest.param(name, persona, id=f"{name}-{persona}") for name in RULES for persona in STRANGERS]


@pytest.mark.parametrize(("name", "persona"), other_methods_cases())
def test_other_methods_never_reach_amiras_data(client, world, name, persona):
    """Every method besides the rule's: a stranger refused by the rule's method is refused by every
    other one too (404, 405, 401 or the login page); whatever the answer, amira's data stays as it was
    and the answer shows none of it."""
    from django.urls import reverse

    rule = RULES[name]
    url = reverse(name, kwargs=resolve_kwargs(rule.kwargs, world))
    main = "post" if rule.method == "post_json" else rule.method
    refused = all(status in REFUSED for status in _as_tuple(expected(name, rule, persona)))
    headers = become(client, persona, world)
    before = amiras_data(world)
    for method in METHODS:
        if method == main:
            continue
        if persona not in ("anonymous", "bearer") and logged_out(client):  # e.g. after logging out
            headers = become(client, persona, world)
        response = send(client, method, url, rule.data, headers)
        if refused:
            assert_status(response, persona, method, url, REFUSED)
        else:
            assert response.status_code < 500, f"{persona} {method.upper()} {url}: {response.status_code}"
        assert_unchanged(before, world, rule, f"{persona} {method.upper()} {url}")
        if not rule.credential_in_url:
            assert_no_marker_of_amira(response, persona, url)


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def test_the_admin_site_is_for_admins_only(client, world):
    from django.urls import NoReverseMatch, reverse

    urls = []
    for name, pattern in walk(get_resolver().url_patterns):
        if not name.startswith("admin:"):
            continue
        kwargs = {key: ADMIN_KWARGS.get(key, "1") for key in pattern.pattern.converters} | {
            key: ADMIN_KWARGS.get(key, "1") for key in pattern.pattern.regex.groupindex
        }
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        if name in {"admin:logout", "admin:login"}:
            continue  # the login page is public, and logging out is POST-only
        urls.append((url, ADMIN_QUERIES.get(name, {})))
    assert len(urls) > 20
    for persona in PERSONAS:  # "inactive" (amira deactivated) last
        for url, query in urls:
            check(client, persona, world, "get", url, ADMIN_RULE[persona], query)


@pytest.mark.parametrize("name", [n for n, rule in RULES.items() if rule.kwargs])
def test_unknown_or_out_of_range_ids_never_crash(client, world, name):
    """Bad URLs get a clear 4xx, never a 500: huge ids (beyond bigint) and unknown keys, for everyone."""
    from django.urls import reverse

    rule = RULES[name]
    junk = {key: 2**63 if isinstance(value, int) or key in {"pk", "year"} else "no-such-thing"
            for key, value in resolve_kwargs(rule.kwargs, world).items()}  # fmt: skip
    url = reverse(name, kwargs=junk)
    for persona in PERSONAS:  # "inactive" (amira deactivated) last
        headers = become(client, persona, world)
        response = send(client, "get" if rule.method == "get" else "post", url, headers=headers)
        assert response.status_code < 500, f"{persona} {url}: {response.status_code}"
