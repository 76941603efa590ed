"""The settings module: safe defaults, loud failures in production, a clean deploy check."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "pathway.example.org",
    "SMTP_HOST": "smtp.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "SITE_URL": "https://pathway.example.org",
}


def manage(*args, env):
    # A clean environment: only what a production host would set (no test-only switches).
    dropped = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_warnings_with_production_settings(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    env = {**PRODUCTION_ENV, "SECRET_KEY": "", "VAR_DIR": str(tmp_path)}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_when_debug_is_off(tmp_path):
    env = {**PRODUCTION_ENV, "ALLOWED_HOSTS": "", "VAR_DIR": str(tmp_path)}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("CACHE_URL", "rate limits would count per process"),
        ("SMTP_HOST", "reminders would be marked sent"),
        ("SITE_URL", "links in emails and the calendar feed would point"),
    ],
)
def test_it_refuses_to_start_without_a_production_service_when_debug_is_off(tmp_path, name, why):
    # Without them production would quietly fall back to per-process rate limits, mail written to
    # files (reminders marked sent) and links to 127.0.0.1.
    env = {**PRODUCTION_ENV, name: "", "VAR_DIR": str(tmp_path)}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr
    assert why in result.stderr


def test_the_dockerfile_build_step_gives_every_setting_production_requires(tmp_path):
    # The image runs collectstatic with DEBUG off at build time, so it must satisfy the same checks.
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    step = next(step for step in dockerfile.split("&&") if "collectstatic" in step)
    words = shlex.split(step)
    assignments = dict(word.split("=", 1) for word in words[: words.index("python")])
    assert assignments["DEBUG"] == "false"
    unset = dict.fromkeys(PRODUCTION_ENV, "")  # only what the Dockerfile itself sets
    result = manage("check", env={**unset, **assignments, "VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_gives_every_setting_production_requires(tmp_path):
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]
    # ${NAME:-default} takes its default; ${NAME:?message} is what the operator must give.
    resolved = {
        name: re.sub(r"\$\{\w+:(-|\?)([^}]*)\}", lambda m: m[2] if m[1] == "-" else "given", str(value))
        for name, value in environment.items()
    }
    unset = dict.fromkeys(PRODUCTION_ENV, "")  # only what docker-compose.yml itself sets
    result = manage("check", "--deploy", env={**unset, **resolved, "VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_rejects_a_malformed_boolean(tmp_path):
    result = manage("check", env={"DEBUG": "maybe", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_docker_compose_describes_the_production_like_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mail"} <= set(services)
    # web, worker and beat run one image; beat is a single process.
    images = {services[name].get("image") for name in ("web", "worker", "beat")}
    assert len(images) == 1 and None not in images
    assert (
        "migrate" in " ".join(services["web"]["command"])
        if isinstance(services["web"]["command"], list)
        else "migrate" in services["web"]["command"]
    )
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert (ROOT / "Dockerfile").exists()


def test_htmx_is_vendored_at_a_pinned_version():
    vendored = ROOT / "static" / "vendor" / "htmx-4.0.1.min.js"
    assert 'version="4.0.1"' in vendored.read_text()
    base = (ROOT / "templates" / "base.html").read_text()
    assert "vendor/htmx-4.0.1.min.js" in base
    assert "unpkg" not in base and "jsdelivr" not in base and "cdn" not in base.lower()
