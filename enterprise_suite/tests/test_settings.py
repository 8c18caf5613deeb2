"""Settings refuse an unsafe production configuration and pick the profile from the env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "APP_ENV", "DATABASE_URL", "REDIS_URL"}
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.RUNTIME_PROFILE, settings.DATABASES['default']['ENGINE'], "
        "settings.CHANNEL_LAYERS['default']['BACKEND'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "enterprise_suite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("key", ["", "short", "django-insecure-" + "x" * 60])
def test_production_refuses_a_weak_secret_key(key: str) -> None:
    result = _load_settings(APP_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_real_secret_key() -> None:
    result = _load_settings(APP_ENV="production", SECRET_KEY="k" * 64, ALLOWED_HOSTS="example.com")
    assert result.returncode == 0, result.stderr


def test_embedded_profile_without_service_urls() -> None:
    result = _load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "embedded",
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
    ]


def test_services_profile_with_service_urls() -> None:
    result = _load_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "services",
        "django.db.backends.postgresql",
        "channels_redis.core.RedisChannelLayer",
        "False",
    ]
