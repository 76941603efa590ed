"""The settings module: safe defaults, loud failures in production, a clean deploy check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "pathway.example.org",
    "SMTP_HOST": "smtp.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
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
