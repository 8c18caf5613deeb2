"""WebSocket authentication with an API token.

The token comes in the `Authorization: Bearer` header or, for browsers that cannot set
headers, as a `bearer.<token>` entry in the Sec-WebSocket-Protocol list. Query strings are
not accepted: they end up in proxy and access logs.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from accounts.models import ApiToken
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
