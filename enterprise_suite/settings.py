"""Settings, all from the environment (django-environ).

Two runtime profiles:
- embedded: no DATABASE_URL / REDIS_URL. SQLite, in-memory channel layer, local-memory cache,
  Celery tasks run inside the web process. For trying the suite out with `make run`.
- services: DATABASE_URL and REDIS_URL set. PostgreSQL, Redis for Celery, Channels and cache.
  Tests, compose and production use this.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import django_stubs_ext
import environ
import structlog
from django.core.exceptions import ImproperlyConfigured

# Lets typed generics such as admin.ModelAdmin[Model] be subscripted at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

APP_ENV = env.str("APP_ENV", default="development")  # development | test | production
IS_PRODUCTION = APP_ENV == "production"
DEBUG = env.bool("DEBUG", default=False)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
RUNTIME_PROFILE = "services" if DATABASE_URL and REDIS_URL else "embedded"

_INSECURE_KEY_MARKERS = ("insecure", "change-me", "changeme", "dev-secret")


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if IS_PRODUCTION:
        # A guessable key lets anyone forge sessions and password-reset links.
        if len(key) < 50 or any(marker in key.lower() for marker in _INSECURE_KEY_MARKERS):
            raise ImproperlyConfigured(
                "SECRET_KEY must be set to a random value of at least 50 characters "
                "when APP_ENV=production."
            )
        return key
    return key or "django-insecure-development-only-" + secrets.token_urlsafe(8)


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=IS_PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=IS_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=IS_PRODUCTION)
# TLS ends at the load balancer, which says so in X-Forwarded-Proto. Its health checks and
# Prometheus's scrapes come over plain HTTP from inside the VPC and must not be redirected.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=IS_PRODUCTION)

INSTALLED_APPS = [
    # First, so its runserver (daphne's plus the embedded scheduler) wins over Django's.
    # daphne itself is not an installed app: its app config imports the server (twisted,
    # pyOpenSSL, autobahn: about 40 MB and 0.13 s) into every process, workers included;
    # the web process and runserver import it where they serve.
    "enterprise_suite",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "accounts",
    "distribution",
    "realtime",
    "royalties",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "enterprise_suite.request_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "enterprise_suite.urls"
ASGI_APPLICATION = "enterprise_suite.asgi.application"
WSGI_APPLICATION = "enterprise_suite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    is_postgres = DATABASES["default"]["ENGINE"].endswith("postgresql")
    if is_postgres and env.bool("DB_POOL", default=IS_PRODUCTION):
        # Under daphne every request runs in a fresh thread, so per-thread persistent
        # connections (CONN_MAX_AGE) are never reused: a process-wide pool is. Off by default
        # outside production: a pool opened before the test runner renames the database to
        # its test copy would keep serving the original one.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DB_POOL_TIMEOUT", default=10),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("TEST", {})
    if env.str("TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(env.str("SQLITE_PATH", default=str(BASE_DIR / "var" / "embedded.sqlite3"))),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
_S3_BUCKET = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if _S3_BUCKET:
    # Assets on S3. Credentials come from boto3's own chain (AWS_ACCESS_KEY_ID/... or the
    # ECS task role), never from here; objects stay private, reached by signed URLs only.
    _DEFAULT_STORAGE: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _S3_BUCKET,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            # Signed URLs with SigV4: botocore still presigns with the deprecated SigV2 in
            # us-east-1 unless told, which buckets created since 2020 may refuse.
            "signature_version": "s3v4",
            # Reading an object back (asset analysis) spools past this to disk; the default,
            # 0, would hold a whole 2 GB master in the worker's memory.
            "max_memory_size": env.int("AWS_S3_MAX_MEMORY_SIZE", default=10 * 1024 * 1024),
        },
    }
else:
    _DEFAULT_STORAGE = {
        "BACKEND": env.str(
            "DEFAULT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        )
    }
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION

# --- Cache, Channels, Celery ----------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="es"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNELS_PREFIX", default="asgi"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Redis pub/sub channel prefix of the live event stream (realtime/stream.py).
EVENT_STREAM_PREFIX = env.str(
    "EVENT_STREAM_PREFIX", default=env.str("CHANNELS_PREFIX", default="asgi")
)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# Embedded profile: tasks run inside the calling process, so no worker is needed.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A task is acknowledged only once it has finished, so a worker killed mid-task hands it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On SIGTERM (remapped to Celery's cold shutdown by the entrypoint's worker role) running tasks
# get this long to finish; the rest go back to the broker. Keep it under the orchestrator's
# stop timeout (ECS stopTimeout, compose stop_grace_period).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=60.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_DEFAULT_QUEUE", default="default")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Keep Django's LOGGING (structlog, JSON in production) in workers instead of Celery's format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- REST API -------------------------------------------------------------------------------
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="1200/min")
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasCapability"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": API_RATE_LIMIT},
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "enterprise_suite.api.pagination.PageNumberPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    # drf-spectacular's, plus the error responses every operation can give.
    "DEFAULT_SCHEMA_CLASS": "enterprise_suite.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "enterprise_suite.api.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Enterprise Suite API",
    "DESCRIPTION": (
        "Music distribution backend: catalog, QC review, DDEX deliveries, live status and "
        "royalties. Authenticate with `Authorization: Bearer <api token>`. Errors always have "
        'the shape `{"error": {"code", "message", "details"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ParentalWarningEnum": "distribution.choices.ParentalWarning",
        "ReleaseStatusEnum": "distribution.choices.ReleaseStatus",
        "RoleEnum": "accounts.choices.Role",
        "ContributorRoleEnum": "distribution.choices.ContributorRole",
        "SalesReportStatusEnum": "royalties.choices.ReportStatus",
        "StatementStatusEnum": "royalties.choices.StatementStatus",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "console")

_shared_processors: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso"),
]
structlog.configure(
    processors=[
        *_shared_processors,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer()
                if LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _shared_processors,
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": sys.stderr,
            "formatter": "structured",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- Organization defaults ------------------------------------------------------------------
DEFAULT_RELEASE_LEAD_DAYS = env.int("DEFAULT_RELEASE_LEAD_DAYS", default=7)

# --- Assets ---------------------------------------------------------------------------------
ARTWORK_MAX_BYTES = env.int("ARTWORK_MAX_BYTES", default=50 * 1024 * 1024)
AUDIO_MAX_BYTES = env.int("AUDIO_MAX_BYTES", default=2 * 1024 * 1024 * 1024)
# Pillow refuses images past this many pixels (decompression bombs); 10000x10000 is plenty.
ARTWORK_MAX_PIXELS = env.int("ARTWORK_MAX_PIXELS", default=100_000_000)
ARTWORK_MIN_SIDE = env.int("ARTWORK_MIN_SIDE", default=3000)

# --- DDEX -----------------------------------------------------------------------------------
# The official ERN 4.3 schema (release-notification.xsd and allowed-value-sets.xsd).
DDEX_SCHEMA_DIR = env.str(
    "DDEX_SCHEMA_DIR", default=str(BASE_DIR.parent / "shared" / "ddex" / "ern43")
)

# --- Deliveries -----------------------------------------------------------------------------
# Our own DDEX party: the sender of every message.
DDEX_SENDER_DPID = env.str("DDEX_SENDER_DPID", default="PADPIDA2026112701E")
DDEX_SENDER_NAME = env.str("DDEX_SENDER_NAME", default="Enterprise Suite")
DDEX_TEST_MESSAGES = env.bool("DDEX_TEST_MESSAGES", default=not IS_PRODUCTION)
# Folder stores' relative roots resolve here (the embedded profile's "stores").
STORE_DROP_ROOT = env.str("STORE_DROP_ROOT", default=str(BASE_DIR / "var" / "stores"))

# Royalties: where stores drop sales reports (<root>/<organization slug>/<store code>/), how
# many bad lines a report may have before it is rejected whole, and how many are listed.
ROYALTIES_DROP_ROOT = env.str("ROYALTIES_DROP_ROOT", default=str(BASE_DIR / "var" / "sales-drop"))
# An S3 prefix instead of the folder when a bucket is named (endpoint and region as for assets).
ROYALTIES_DROP_S3_BUCKET = env.str("ROYALTIES_DROP_S3_BUCKET", default="")
ROYALTIES_DROP_S3_PREFIX = env.str("ROYALTIES_DROP_S3_PREFIX", default="sales-drop")
ROYALTIES_MAX_BAD_LINES = env.int("ROYALTIES_MAX_BAD_LINES", default=1000)
ROYALTIES_MAX_LISTED_ERRORS = env.int("ROYALTIES_MAX_LISTED_ERRORS", default=500)
# How table layouts (canonical, streaming TSV, European CSV) are read: "columns", a column
# at a time in plain Python (0.5x to 0.65x a raw COPY in 132 MB at an import's peak, no
# more than line by line); "polars", a column at a time with polars (about as fast, 275 MB);
# "lines", line by line (about 0.12x). The other layouts are always read line by line.
ROYALTIES_IMPORT_READER = env.str("ROYALTIES_IMPORT_READER", default="columns")
if ROYALTIES_IMPORT_READER not in ("columns", "polars", "lines"):
    raise ImproperlyConfigured(
        f"ROYALTIES_IMPORT_READER is '{ROYALTIES_IMPORT_READER}': polars, columns or lines."
    )
# polars (the sales-report checks) sizes its thread pool when first used, from the
# environment. One thread: an import's checks run beside PostgreSQL's COPY of the lines they
# produce, and a pool per core fought PostgreSQL for the CPU (and cost memory per thread).
POLARS_MAX_THREADS = env.int("POLARS_MAX_THREADS", default=1)
os.environ["POLARS_MAX_THREADS"] = str(POLARS_MAX_THREADS)
# polars' allocator (jemalloc) returns freed pages after 10 s by default, so an import kept
# every chunk it had ever freed (about 60 MB more at its peak). After a second instead: at
# once (0) cost twice the system time in madvise calls and page faults.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")
SALES_REPORT_MAX_BYTES = env.int("SALES_REPORT_MAX_BYTES", default=2 * 1024 * 1024 * 1024)
# The text of a gzip or zip report, once decompressed (a report compresses about tenfold).
SALES_REPORT_MAX_EXPANDED_BYTES = env.int(
    "SALES_REPORT_MAX_EXPANDED_BYTES", default=20 * 1024 * 1024 * 1024
)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=900)

# --- Outbound webhooks ----------------------------------------------------------------------
# Endpoints may not point at loopback, link-local or private addresses unless this is set.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# Delay before attempt n+1 after attempt n failed (±20 % jitter): about 27 hours over 8 attempts.
WEBHOOK_BACKOFF_SECONDS = env.list(
    "WEBHOOK_BACKOFF_SECONDS", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
# An endpoint is disabled after this many deliveries in a row were abandoned.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)
