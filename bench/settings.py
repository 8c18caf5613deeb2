"""Settings for the benchmark server: the project's settings, on a database and a Redis index of
the benchmark's own, with the hand-written baseline views mounted next to the API.

Whatever DATABASE_URL and REDIS_URL say, the database name and the Redis index are replaced here,
so nothing run with these settings can touch development data.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from enterprise_suite.settings import *  # noqa: F403
from enterprise_suite.settings import DATABASES, REDIS_URL, env

ROOT_URLCONF = "bench.urls"

BENCH_DATABASE_NAME = env.str("BENCH_DATABASE_NAME", default="enterprise_suite_bench")
BENCH_REDIS_DB = env.int("BENCH_REDIS_DB", default=9)

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not REDIS_URL:
    raise ImproperlyConfigured(
        "The benchmark runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL."
    )
if not BENCH_DATABASE_NAME.endswith("_bench"):
    raise ImproperlyConfigured("BENCH_DATABASE_NAME must end with '_bench'.")
if BENCH_REDIS_DB == 0:
    raise ImproperlyConfigured("BENCH_REDIS_DB must not be the development index 0.")

DATABASES = {"default": {**DATABASES["default"], "NAME": BENCH_DATABASE_NAME}}

REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{BENCH_REDIS_DB}"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "bench",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "bench"},
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
