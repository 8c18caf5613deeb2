"""Per-token rate limit.

In the services profile the count is a fixed-window counter in Redis (`INCR` plus an expiry):
one round trip, atomic under concurrency, and on a process-wide connection pool. Django's cache
is per request context under ASGI, which would open a Redis connection per request, and DRF's
default throttle rewrites the whole request history on every call, without atomicity. The
embedded profile (no Redis) falls back to DRF's cache-based throttle on local memory.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from enterprise_suite.redis_client import shared_redis


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        if not settings.REDIS_URL or self.rate is None:
            return super().allow_request(request, view)
        key = self.get_cache_key(request, view)
        limit, duration = self.parse_rate(self.rate)
        assert limit is not None
        assert duration is not None
        now = time.time()
        window = int(now // duration)
        counter = f"{settings.CACHES['default'].get('KEY_PREFIX', 'es')}:{key}:{window}"
        pipe = shared_redis().pipeline()
        pipe.incr(counter)
        pipe.expire(counter, duration + 1, nx=True)
        count = pipe.execute()[0]
        if count <= limit:
            return True
        self._wait = (window + 1) * duration - now
        return False

    def wait(self) -> float | None:
        if settings.REDIS_URL and hasattr(self, "_wait"):
            return max(self._wait, 1.0)
        return super().wait()
