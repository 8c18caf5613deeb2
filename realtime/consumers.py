"""WebSocket consumers."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Application close codes (4000-4999 are free for applications).
CLOSE_UNAUTHENTICATED = 4401


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """The organization's event stream at /ws/events/. For now: authenticate and answer ping."""

    async def connect(self) -> None:
        token = self.scope.get("api_token")
        if token is None:
            # Accept first: closing during the handshake would only give the client an HTTP
            # 403, while a close code tells it why.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.organization_id = str(token.membership.organization_id)
        subprotocols = self.scope.get("subprotocols") or []
        # Echo a non-secret subprotocol if the client offered one alongside its token.
        chosen = next((p for p in subprotocols if not p.startswith("bearer.")), None)
        await self.accept(subprotocol=chosen)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.send_error("malformed", "Frames must be JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "data": content.get("data")})
            return
        await self.send_error("unknown_message", 'Unknown message; expected {"type": "ping"}.')

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "data": {"code": code, "message": message}})
