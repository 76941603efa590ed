"""The one settings module. Everything comes from the environment.

Defaults are safe for `make run` on a laptop (DEBUG on, SQLite under var/, an embedded
filesystem broker, email written to var/mail/). With DEBUG off, anything that would be
unsafe to guess (SECRET_KEY, ALLOWED_HOSTS) must be given or start-up stops.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _required(name: str, why: str = "") -> str:
    raise ImproperlyConfigured(
        f"{name} must be set when DEBUG is off (see README, 'Configuration'). "
        f"Refusing to start with a guessed value{f': {why}' if why else ''}."
    )


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "dev-only-insecure-key-for-make-run-never-use-in-production" if DEBUG else _required("SECRET_KEY")
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or (
    ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else _required("ALLOWED_HOSTS")
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = (
    os.environ.get("SITE_URL")
    or (
        f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        if DEBUG
        else _required("SITE_URL", "links in emails and the calendar feed would point at this machine")
    )
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's session and security-key lists use it
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",
    "simple_history",
    "pathway",
    "milestones",
    "programs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pathway.web.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication and messages: advisors and admins without a second factor go to set one up.
    "pathway.web.second_factor.RequireSecondFactorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "pathway.urls"
WSGI_APPLICATION = "pathway.wsgi.application"
ASGI_APPLICATION = "pathway.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite file under var/ unless DATABASE_URL is given (PostgreSQL through psycopg 3).
if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {
        # Persistent connections with health checks: opening a PostgreSQL connection per
        # request cost ~6x throughput in our measurements (ecosystem.md §7.1).
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # The web server, the worker and beat write concurrently: wait, don't fail.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "pathway.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Verification is mandatory in production and optional in `make run` (ACCOUNT_EMAIL_VERIFICATION).
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION") or (
    "optional" if DEBUG else "mandatory"
)
ACCOUNT_ADAPTER = "pathway.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Pathway Planner] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Second factors (allauth.mfa): an authenticator app with recovery codes, or a security key / passkey
# where the browser offers WebAuthn. Advisors and admins must have one (pathway.web.second_factor).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Pathway Planner"
# Browsers allow WebAuthn on http://127.0.0.1 and localhost, so `make run` can try security keys too.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_ADAPTER = "pathway.adapters.MFAAdapter"

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Match cycle events are defined by NRMP/AAMC in US Eastern time.
CYCLE_TIME_ZONE = "America/New_York"

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ------------------------------------------------------------------------------------
# Files under var/mail/ unless SMTP_HOST is given. Django 6.1 configures mail through MAILERS.
# Production must name a server: the file backend never fails, so reminders would be marked sent.
SMTP_HOST = os.environ.get("SMTP_HOST") or (
    ""
    if DEBUG
    else _required("SMTP_HOST", "email would be written to files and reminders would be marked sent")
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Pathway Planner <noreply@pathway.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Timeouts per SMTP phase: SMTP_TIMEOUT for connecting and for each command's reply; the reply to the
# end of DATA (the server storing or scanning the message) is awaited SMTP_DATA_TIMEOUT. A timeout there
# is the one that can double an email (the server may have the message), so it is long: RFC 5321
# 4.5.3.2.6 suggests 10 minutes; 5 keeps a worker from hanging longer on a broken server.
SMTP_TIMEOUT = env_int("SMTP_TIMEOUT", 10)
SMTP_DATA_TIMEOUT = env_int("SMTP_DATA_TIMEOUT", 300)
if SMTP_HOST:
    MAILERS = {
        "default": {
            # Django's SMTP backend, waiting SMTP_DATA_TIMEOUT for the reply to the end of DATA.
            "BACKEND": "milestones.reminders.smtp.EmailBackend",
            "OPTIONS": {
                "host": SMTP_HOST,
                "port": env_int("SMTP_PORT", 25),
                "username": os.environ.get("SMTP_USER", ""),
                "password": os.environ.get("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_STARTTLS", False),
                "timeout": SMTP_TIMEOUT,
                "data_timeout": SMTP_DATA_TIMEOUT,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }

# --- Cache ------------------------------------------------------------------------------------
# allauth's login/sign-up/reset rate limits live in the cache, so production processes must share
# one (CACHE_URL, e.g. a Redis database of its own); `make run` and the tests use process memory.
CACHE_URL = os.environ.get("CACHE_URL") or (
    ""
    if DEBUG
    else _required("CACHE_URL", "login and sign-up rate limits would count per process, not per site")
)
if CACHE_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, keeping its client object (pathway/lib/redis_cache.py).
            "BACKEND": "pathway.lib.redis_cache.ReusedClientRedisCache",
            "LOCATION": CACHE_URL,
        }
    }

# --- Celery -----------------------------------------------------------------------------------
# Redis in production (REDIS_URL); without it an embedded filesystem broker under var/celery/
# so that `make run` runs real workers with no server installed.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "celery" / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Celery's Django fixup closes every database connection before and after each task unless this is set,
# so each reminder paid for several new PostgreSQL connections (sends were 2-3x slower, BENCHMARKS.md).
# milestones.tasks closes stale connections the way Django does per request instead (CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = 1000
# Reminder delivery (milestones.tasks): exponential backoff on SMTP errors, then "failed". Tests and
# benchmarks shorten these through the environment, because the worker is a separate process.
REMINDER_RETRY_BACKOFF_SECONDS = env_int("REMINDER_RETRY_BACKOFF_SECONDS", 60)
REMINDER_RETRY_BACKOFF_MAX_SECONDS = env_int("REMINDER_RETRY_BACKOFF_MAX_SECONDS", 300)
REMINDER_MAX_RETRIES = env_int("REMINDER_MAX_RETRIES", 6)
# Longer than the send task's hard time limit (from the SMTP timeouts: 450 s by default) and the longest
# backoff, so live tasks are not swept; milestones.reminders.sweeping never uses less than that limit.
REMINDER_STUCK_AFTER_SECONDS = env_int("REMINDER_STUCK_AFTER_SECONDS", 600)
# When the send task's retries run out (an SMTP outage outlasting them), the row shows as failed but is
# not given up: the sweeper sends it again after this long, doubling each time up to the maximum, for
# as long as its deadline is ahead.
REMINDER_FAILED_RETRY_SECONDS = env_int("REMINDER_FAILED_RETRY_SECONDS", 600)
REMINDER_FAILED_RETRY_MAX_SECONDS = env_int("REMINDER_FAILED_RETRY_MAX_SECONDS", 3 * 3600)
# A UTC interval, not a crontab: crontab schedules have a record of DST bugs (ecosystem.md §3.1).
CELERY_BEAT_SCHEDULE: dict = {
    "every-5-min-plan-reminders": {
        "task": "milestones.tasks.plan_reminders",
        "schedule": 300.0,
        # A tick that waited longer than its interval is superseded by the next one: drop it.
        "options": {"expires": 290},
    },
    # The advisor's workspace (issue 14): cohort flags judged again (time alone raises some), and the
    # weekly digest planned once per advisor and week, then sent (a tick plans nothing twice).
    "every-15-min-refresh-risk-flags": {
        "task": "pathway.tasks.refresh_risk_flags",
        "schedule": 900.0,
        "options": {"expires": 880},
    },
    # Invitation emails to advisors: stuck or failed ones back to the queue (never lost).
    "every-5-min-requeue-invitation-emails": {
        "task": "pathway.tasks.requeue_invitation_emails",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "hourly-plan-advisor-digests": {
        "task": "pathway.tasks.plan_advisor_digests",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    # Interview reminders and letter nudges of the application season (programs.season.reminders).
    "every-5-min-plan-season-reminders": {
        "task": "programs.tasks.plan_season_reminders",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}

# --- Security ---------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sessions are read from the cache (written through to the database): one query fewer on every page.
# Safe with "sign out everywhere", which ends sessions through the session store (cache and database).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    # Health checks come from the load balancer over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# The calendar feed and unsubscribe URLs carry their secret in the path: every handler masks it
# (pathway.lib.logs), for runserver's access log and for Django's "Not Found: <path>" warnings alike.
# gunicorn's access log is masked by pathway.gunicorn_conf.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"secret_paths": {"()": "pathway.lib.logs.SecretPathFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secret_paths"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["secret_paths"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's default handlers here (a second console in DEBUG, mail_admins) would write the same
        # records unmasked; they reach the root's console instead.
        "django": {"handlers": []},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
