"""Every URL pattern × every persona. A URL missing from RULES fails the suite.

Personas: anonymous, amira (the applicant who owns the data), carla (another applicant),
ben (amira's advisor), dan (an advisor without students), root (admin).
Strangers get 404, never 403: the page might as well not exist for them.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from ..conftest import make_amira, make_amira_profile, make_ben, make_carla, make_dan, make_root
from ..factories import PlannedProfileFactory

PERSONAS = ("anonymous", "amira", "carla", "ben", "dan", "root")
LOGIN = "login"  # a redirect to the login page


@dataclass(frozen=True)
class Rule:
    expect: dict  # persona -> status code, or LOGIN
    method: str = "get"
    kwargs: dict = field(default_factory=dict)  # names resolved against the world fixture
    data: dict = field(default_factory=dict)


def everyone(status, **overrides):
    return dict.fromkeys(PERSONAS, status) | overrides


def applicant_only(own=200, **overrides):
    """Pages about the logged-in applicant's own data: other roles get 404."""
    return {"anonymous": LOGIN, "amira": own, "carla": own, "ben": 404, "dan": 404, "root": 404} | overrides


ACCOUNT_PUBLIC = everyone(200)

RULES: dict[str, Rule] = {
    # pathway
    "home": Rule({"anonymous": 200, "amira": 302, "carla": 302, "ben": 302, "dan": 302, "root": 200}),
    "healthz": Rule(everyone(200)),
    "advisor:student_list": Rule(
        {"anonymous": LOGIN, "amira": 404, "carla": 404, "ben": 200, "dan": 200, "root": 200}
    ),
    "advisor:student_detail": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 200, "dan": 404, "root": 200},
        kwargs={"pk": "amira.pk"},
    ),
    # applicant pages: each applicant reaches only their own pathway through these URLs
    "applicant:onboarding": Rule(applicant_only(own=302)),  # already onboarded: sent to the profile settings
    "applicant:dashboard": Rule(applicant_only()),
    "applicant:dashboard_progress": Rule(applicant_only(own=302)),  # a fragment; without htmx, the dashboard
    "applicant:timeline": Rule(applicant_only()),
    "applicant:milestone_detail": Rule(applicant_only(), kwargs={"key": "usmle_step2ck"}),
    "applicant:milestone_status": Rule(applicant_only(own=422), method="post", kwargs={"key": "usmle_step2ck"}),
    "applicant:milestone_attempt": Rule(applicant_only(own=422), method="post", kwargs={"key": "usmle_step2ck"}),
    "applicant:milestone_oet": Rule(applicant_only(own=422), method="post", kwargs={"key": "oet_medicine"}),
    "applicant:milestone_document": Rule(applicant_only(own=422), method="post", kwargs={"key": "ecfmg_registration"}),
    "applicant:milestone_usce": Rule(applicant_only(own=422), method="post", kwargs={"key": "usce"}),
    "applicant:milestone_note": Rule(applicant_only(own=302), method="post", kwargs={"key": "usmle_step2ck"}),
    # Removing one of amira's evidence rows: amira (asked first, after anonymous) removes it and is
    # redirected back (no-JS); nobody else reaches it, and it is gone by then anyway, so 404 either way.
    "applicant:milestone_evidence_delete": Rule(
        applicant_only(own=302, carla=404),
        method="post",
        kwargs={"key": "ecfmg_registration", "kind": "document", "pk": "doc.pk"},
    ),
    "advisor:student_milestone": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 200, "dan": 404, "root": 200},
        kwargs={"pk": "amira.pk", "key": "usmle_step2ck"},
    ),
    # Pathway choices (POST, no data): refused with a message and a redirect, nothing changed.
    "applicant:switch_cycle": Rule(applicant_only(own=302), method="post"),
    "applicant:optional_step": Rule(applicant_only(own=302), method="post"),
    "applicant:settings": Rule(applicant_only()),
    "applicant:settings_profile": Rule(applicant_only()),
    "applicant:export_json": Rule(applicant_only()),
    "applicant:export_csv": Rule(applicant_only()),
    "applicant:account_delete": Rule(applicant_only()),
    "applicant:api_tokens": Rule(applicant_only()),
    "applicant:api_token_revoke": Rule(
        {"anonymous": LOGIN, "amira": 302, "carla": 404, "ben": 404, "dan": 404, "root": 404},
        method="post",
        kwargs={"pk": "token.pk"},
    ),
    "applicant:calendar_regenerate": Rule(applicant_only(own=302), method="post"),
    # The feed's secret token is its authentication (calendar apps cannot log in).
    "applicant:calendar_feed": Rule(everyone(200), kwargs={"token": "profile.calendar_token"}),
    # The signed token is the authentication: a one-click unsubscribe needs no login.
    "applicant:reminder_unsubscribe": Rule(everyone(200), kwargs={"token": "unsubscribe.token"}),
    # JSON API: 401 without credentials; the pathway belongs to the caller.
    "api:api-root": Rule(everyone(404)),
    "api:openapi-json": Rule(everyone(200)),
    "api:get_pathway": Rule(applicant_only() | {"anonymous": 401}),
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
    "api:get_cycle": Rule(everyone(200, anonymous=401), kwargs={"year": 2027}),
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
ADMIN_RULE = {"anonymous": 302, "amira": 302, "carla": 302, "ben": 302, "dan": 302, "root": (200, 302, 403, 404)}
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


def build_world() -> dict:
    from django.core.management import call_command

    from milestones.models import MatchCycle, Milestone, MilestoneTemplate
    from milestones.reminders import unsubscribe_token
    from milestones.services import add_document
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
    token, _secret = api_token_create(user=amira, name="matrix")
    doc = add_document(
        milestone=Milestone.objects.get(applicant=amira, template__key="ecfmg_registration"),
        label="ECFMG ID",
        reference="0-123-456-7",
        by=amira,
    )
    return {
        "token": token,
        "doc": doc,
        "unsubscribe": SimpleNamespace(token=unsubscribe_token(amira)),
        "amira": amira,
        "carla": carla,
        "ben": make_ben(amira),
        "dan": make_dan(),
        "root": make_root(),
        "profile": profile,
    }


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


def check(client, persona, world, method, url, expected, data=None):
    client.logout()
    if persona != "anonymous":
        client.force_login(world[persona])
    if method == "patch":
        response = client.patch(url, json.dumps(data or {}), content_type="application/json")
    elif method == "post_json":
        response = client.post(url, json.dumps(data or {}), content_type="application/json")
    else:
        response = getattr(client, method)(url, data or {})
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if LOGIN in allowed:
        assert response.status_code == 302, f"{persona} {method.upper()} {url}: {response.status_code}"
        assert "/accounts/login/" in response["Location"], f"{persona} {url} -> {response['Location']}"
    else:
        assert response.status_code in allowed, f"{persona} {method.upper()} {url}: {response.status_code}"


@pytest.mark.parametrize("name", list(RULES))
def test_the_matrix(client, world, name):
    from django.urls import reverse

    rule = RULES[name]
    url = reverse(name, kwargs=resolve_kwargs(rule.kwargs, world))
    for persona in PERSONAS:
        check(client, persona, world, rule.method, url, rule.expect[persona], rule.data)


def test_the_admin_site_is_for_admins_only(client, world):
    from django.urls import NoReverseMatch, reverse

    checked = 0
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
        query = ADMIN_QUERIES.get(name, {})
        for persona in PERSONAS:
            check(client, persona, world, "get", url, ADMIN_RULE[persona], query)
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("name", [n for n, rule in RULES.items() if rule.kwargs])
def test_unknown_or_out_of_range_ids_never_crash(client, world, name):
    """Bad URLs get a clear 4xx, never a 500: huge ids (beyond bigint) and unknown keys, for everyone."""
    from django.urls import reverse

    rule = RULES[name]
    junk = {key: 2**63 if isinstance(value, int) or key in {"pk", "year"} else "no-such-thing"
            for key, value in resolve_kwargs(rule.kwargs, world).items()}  # fmt: skip
    url = reverse(name, kwargs=junk)
    for persona in PERSONAS:
        client.logout()
        if persona != "anonymous":
            client.force_login(world[persona])
        response = client.get(url) if rule.method == "get" else client.post(url)
        assert response.status_code < 500, f"{persona} {url}: {response.status_code}"
