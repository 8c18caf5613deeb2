"""The organization's event stream at /ws/events/.

In: `{"type": "subscribe", "releases": [ids] | null}` narrows to releases (null: all),
`{"type": "resume", "after": <last event id seen>}` replays what was missed from the outbox
before switching to live, `{"type": "ping"}`. Out: events `{"id", "type", "occurred_at",
"data"}`, `{"type": "heartbeat"}` every HEARTBEAT_SECONDS, and `{"type": "error", ...}` for
bad input (the connection stays open).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from enterprise_suite import metrics
from realtime.selectors import event_list
from realtime.stream import REPLAY_LIMIT, event_frame, hub

# Application close codes (4000-4999 are free for applications).
CLOSE_UNAUTHENTICATED = 4401
HEARTBEAT_SECONDS = 25
SENT_MEMORY = 10000


@database_sync_to_async
def _missed(
    organization_id: str, after_id: int, releases: set[str] | None
) -> list[tuple[int, str]]:
    events = event_list(
        organization_id=uuid.UUID(organization_id),
        after_id=after_id,
        release_ids=[uuid.UUID(r) for r in releases] if releases is not None else None,
    )
    return [(event.id, event_frame(event).text) for event in events[:REPLAY_LIMIT]]


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Streams the caller's organization's events, never another's.

    Live events come from the process's `EventHub` (one Redis subscription for all
    connections, each event encoded once), not from a channel-layer group, so the consumer
    needs no channel of its own.
    """

    channel_layer_alias = "__event_stream_has_no_channel_layer__"

    async def connect(self) -> None:
        token = self.scope.get("api_token")
        # A token, or else an admin session (realtime.auth.SessionAuthMiddleware).
        organization_id = (
            token.membership.organization_id
            if token is not None
            else self.scope.get("session_organization_id")
        )
        if organization_id is None:
            # Accept first: closing during the handshake would only give the client an HTTP
            # 403, while a close code tells it why.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.organization_id = str(organization_id)
        self.releases: set[str] | None = None
        self.last_sent = 0
        # Ids already sent, to drop the overlap between replay and live. A set rather than
        # "id <= last": transactions may commit out of id order.
        self.sent_ids: set[int] = set()
        self.sent_order: deque[int] = deque(maxlen=SENT_MEMORY)
        # While True, live events wait in `buffered` (during the handshake and a replay).
        self.replaying = False
        self.buffered: list[tuple[int, str]] = []
        subprotocols = self.scope.get("subprotocols") or []
        # Echo a non-secret subprotocol if the client offered one alongside its token.
        chosen = next((p for p in subprotocols if not p.startswith("bearer.")), None)
        # Joined before the handshake completes, so whatever the client does once connected
        # the live subscription is already there; events that come before the accept wait.
        self.replaying = True
        self.hub = hub()
        await self.hub.join(self.organization_id, self)
        await self.accept(subprotocol=chosen)
        await self._release_buffer()
        metrics.WEBSOCKET_CLIENTS.inc()  # paired with the dec in disconnect (heartbeat set)
        self.heartbeat = asyncio.ensure_future(self._heartbeat())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "hub"):
            self.hub.leave(self.organization_id, self)
        if hasattr(self, "heartbeat"):
            self.heartbeat.cancel()
            metrics.WEBSOCKET_CLIENTS.dec()

    async def _heartbeat(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await self.send_json({"type": "heartbeat"})

    # --- in ------------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.send_error("malformed", "Frames must be JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong", "data": content.get("data")})
        elif kind == "subscribe":
            await self._subscribe(content.get("releases"))
        elif kind == "resume":
            await self._resume(content.get("after"))
        else:
            await self.send_error(
                "unknown_message", "Expected a message of type subscribe, resume or ping."
            )

    async def _subscribe(self, releases: Any) -> None:
        if releases is None:
            self.releases = None
        else:
            try:
                self.releases = {str(uuid.UUID(str(r))) for r in releases}
            except (ValueError, TypeError):
                await self.send_error(
                    "invalid_releases", "releases must be a list of release ids or null."
                )
                return
        await self.send_json(
            {
                "type": "subscribed",
                "data": {"releases": sorted(self.releases) if self.releases else None},
            }
        )

    async def _resume(self, after: Any) -> None:
        if not isinstance(after, int) or after < 0:
            await self.send_error(
                "invalid_resume", "after must be the last event id you saw (an integer)."
            )
            return
        await self._replay(after)
        await self.send_json({"type": "resumed", "data": {"last_id": self.last_sent}})

    async def _replay(self, after: int) -> None:
        # Live events that arrive while the backlog is read wait in a buffer, so the client
        # sees every event once, in order.
        self.replaying = True
        try:
            for event_id, text in await _missed(self.organization_id, after, self.releases):
                await self._send_event(event_id, text)
        finally:
            await self._release_buffer()

    async def _release_buffer(self) -> None:
        self.replaying = False
        buffered, self.buffered = self.buffered, []
        for event_id, text in buffered:
            await self._send_event(event_id, text)

    # --- out -----------------------------------------------------------------------------------

    async def stream_event(self, event_id: int, release_id: str | None, text: str) -> None:
        """A live event of the organization, already encoded (called by the hub)."""
        if self.releases is not None and release_id not in self.releases:
            return
        if self.replaying:
            self.buffered.append((event_id, text))
            return
        await self._send_event(event_id, text)

    async def _send_event(self, event_id: int, text: str) -> None:
        if event_id in self.sent_ids:
            return  # already sent by the replay or live
        if len(self.sent_order) == self.sent_order.maxlen:
            self.sent_ids.discard(self.sent_order[0])
        self.sent_order.append(event_id)
        self.sent_ids.add(event_id)
        self.last_sent = max(self.last_sent, event_id)
        await self.send(text_data=text)

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "data": {"code": code, "message": message}})
