"""The process's Redis client for the project's own commands (rate limits, event stream).

One client, and so one connection pool, per process: a client per request would open a
connection per request under ASGI.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

# By URL: a test (or a check) that points settings.REDIS_URL elsewhere gets a client for it.
_clients: dict[str, redis.Redis] = {}
_client_lock = threading.Lock()


def shared_redis() -> redis.Redis:
    """The process's client for `settings.REDIS_URL`."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _client_lock:
            client = _clients.get(url)
            if client is None:
                client = _clients[url] = redis.Redis.from_url(
                    url, socket_timeout=2, socket_connect_timeout=1
                )
    return client
