"""WebSocket authentication: an API token, or the admin panel's session.

The token comes in the `Authorization: Bearer` header or, for browsers that cannot set
headers, as a `bearer.<token>` entry in the Sec-WebSocket-Protocol list. Query strings are
not accepted for tokens: they end up in proxy and access logs. Staff signed in to the admin
panel connect from its pages with their session cookie instead (SessionAuthMiddleware).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings

from accounts.models import ApiToken, Organization
from accounts.roles import Capability, user_has_capability
from accounts.services import InvalidToken, token_authenticate

SUBPROTOCOL_TOKEN_PREFIX = "bearer."  # noqa: S105  a marker, not a secret


def token_from_scope(scope: dict[str, Any]) -> str | None:
    headers = dict(scope.get("headers") or [])
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    for protocol in scope.get("subprotocols") or []:
        if protocol.startswith(SUBPROTOCOL_TOKEN_PREFIX):
            return protocol[len(SUBPROTOCOL_TOKEN_PREFIX) :]
    return None


@database_sync_to_async
def _authenticate(raw: str) -> ApiToken | None:
    try:
        return token_authenticate(raw=raw)
    except InvalidToken:
        return None


class TokenAuthMiddleware(BaseMiddleware):
    """Puts the authenticated `ApiToken` (or None) in `scope["api_token"]`."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = token_from_scope(scope)
        scope = dict(scope, api_token=await _authenticate(raw) if raw else None)
        return await super().__call__(scope, receive, send)


def _same_origin(scope: dict[str, Any]) -> bool:
    """Whether the browser page that opened the socket is served by this host.

    Session cookies ride along with any page's WebSocket, so a session is honoured only for
    same-origin pages (the check CSRF protection does for forms); tokens need no such check.
    """
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    forwarded = headers.get(b"x-forwarded-host", b"").decode("latin-1")
    if settings.USE_X_FORWARDED_HOST and forwarded:
        # The host the browser asked for, as HTTP requests take it (`get_host`) behind a
        # proxy that rewrites Host; the first one if proxies added theirs.
        host = forwarded.split(",")[0].strip()
    return bool(origin and host) and urlsplit(origin).netloc.lower() == host.lower()


@database_sync_to_async
def _session_organization(user: Any, requested: str) -> uuid.UUID | None:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    try:
        organization_id = uuid.UUID(requested)
    except ValueError:
        return None
    if not Organization.objects.filter(pk=organization_id).exists():
        return None
    if not user_has_capability(user, organization_id, Capability.CATALOG_READ):
        return None
    return organization_id


class SessionAuthMiddleware(BaseMiddleware):
    """For sockets without a token: the admin panel's staff session (from Channels'
    `AuthMiddlewareStack`, outside this) on a same-origin page, streaming the organization
    named by `?organization=<id>` (not a secret) when the user is a member or a superuser.
    Puts the organization id (or None) in `scope["session_organization_id"]`."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        organization_id = None
        user = scope.get("user")
        if scope.get("api_token") is None and user is not None and _same_origin(scope):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            requested = (query.get("organization") or [""])[0]
            organization_id = await _session_organization(user, requested)
        scope = dict(scope, session_organization_id=organization_id)
        return await super().__call__(scope, receive, send)
