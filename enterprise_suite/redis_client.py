"""The process's Redis client for the project's own commands (rate limits, event stream).

One client, and so one connection pool, per process: a client per request would open a
connection per request under ASGI.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def shared_redis() -> redis.Redis:
    """The process's client for `settings.REDIS_URL`."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=1
                )
    return _client
