"""Production settings pass Django's deployment checks, and TLS redirects spare the probes."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from conftest import ROOT


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {
        **env,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "api.example.com",
        "DJANGO_SETTINGS_MODULE": "enterprise_suite.settings",
        **extra,
    }


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_has_no_warnings_with_production_settings() -> None:
    result = _check_deploy(_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_deploy_check_fails_when_production_turns_a_safeguard_off() -> None:
    """The check above can fail: the same settings with HSTS and the TLS redirect turned off
    through the environment are reported."""
    result = _check_deploy(_production_env(SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
    assert "security.W008" in result.stdout + result.stderr


@pytest.mark.django_db
def test_ssl_redirect_spares_health_checks_and_metrics(client: Any, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code in (200, 503), path
    redirected = client.get("/api/v1/releases/")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
    # Behind the ALB the request arrives as HTTPS and is served.
    assert client.get("/api/v1/releases/", HTTP_X_FORWARDED_PROTO="https").status_code == 401
