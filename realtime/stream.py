"""Live fan-out of committed events to the WebSocket connections of this process.

Why not channel-layer groups: a group send to 1,000 consumers costs channels-redis 1,000
per-channel messages (serialized, stored and popped one by one) and every consumer encodes the
same JSON again; on a 2-core machine that is about 0.6 s of CPU per event. Here an event is
encoded once, published once to Redis pub/sub, and each process holds ONE subscription
(`EventHub`) that hands the same text frame to each of its local connections.

Wire format on Redis: channel `<prefix>:<db>:events:<organization id>`, payload
`<event id>\\t<release id or ->\\t<event JSON>`. The Redis database index is in the channel
name because pub/sub channels are shared by all databases of a server.

Embedded profile (no Redis): `stream_publish` hands the payload straight to the hubs of this
process, thread-safely, which is what a single `runserver` process needs.

Nothing is lost when Redis is unreachable: the event is in the outbox. A failed publish marks
the event `stream_pending`; the next successful publish and the scheduled job
`realtime.events_stream_pending` publish those again, and a hub that lost its subscription
replays the outbox to each of its connections once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog
from channels.db import database_sync_to_async
from django.conf import settings

from enterprise_suite.redis_client import shared_redis

if TYPE_CHECKING:
    from realtime.models import Event

logger = structlog.get_logger(__name__)

RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
REPLAY_LIMIT = 5000  # events read from the outbox at most, per replay or catch-up
SUBSCRIBE_WAIT_SECONDS = 5.0
HUB_CLIENT_NAME = "es-event-hub"  # in CLIENT LIST, so operators (and tests) can find it


class StreamMember(Protocol):
    """What the hub needs of a connection (the consumer): it filters by its subscription,
    buffers while it replays, and drops an event id it has already sent."""

    async def stream_event(self, event_id: int, release_id: str | None, text: str) -> None: ...


@dataclass(frozen=True)
class StreamFrame:
    organization_id: str
    event_id: int
    release_id: str | None
    text: str


def channel_prefix() -> str:
    from redis.connection import parse_url

    database = parse_url(settings.REDIS_URL).get("db", 0) if settings.REDIS_URL else 0
    return f"{settings.EVENT_STREAM_PREFIX}:{database}:events:"


def event_frame(event: Event) -> StreamFrame:
    """The client's frame of an event (the same text live, replayed or caught up)."""
    from realtime.selectors import event_message

    return StreamFrame(
        organization_id=str(event.organization_id),
        event_id=event.id,
        release_id=str(event.release_id) if event.release_id else None,
        text=json.dumps(event_message(event), separators=(",", ":")),
    )


def encode(frame: StreamFrame) -> tuple[str, bytes]:
    """The Redis channel and payload of a frame."""
    return (
        f"{channel_prefix()}{frame.organization_id}",
        f"{frame.event_id}\t{frame.release_id or '-'}\t{frame.text}".encode(),
    )


def decode(channel: str, payload: bytes) -> StreamFrame:
    event_id, release, text = payload.decode().split("\t", 2)
    return StreamFrame(
        organization_id=channel.rsplit(":", 1)[1],
        event_id=int(event_id),
        release_id=None if release == "-" else release,
        text=text,
    )


# --- Publishing (any process, sync) ---------------------------------------------------------


def _send(frame: StreamFrame) -> None:
    if settings.REDIS_URL:
        shared_redis().publish(*encode(frame))
    else:
        _local_dispatch(frame)


def stream_publish(event: Event) -> bool:
    """Push a committed event to every process's connections. False if it could not be sent
    now (it is then marked pending and sent again later)."""
    from realtime.models import Event

    if _pending_flag.is_set():  # older events wait: they go first, in order
        _pending_flag.clear()
        stream_publish_pending()
    if not _pending_flag.is_set():
        try:
            _send(event_frame(event))
            return True
        except Exception:  # Redis down: the outbox keeps it, the pending job sends it later
            logger.warning("event_stream_publish_failed", event_id=event.pk, exc_info=True)
    Event.objects.filter(pk=event.pk).update(stream_pending=True)
    _pending_flag.set()
    return False


_pending_flag = threading.Event()


def stream_publish_pending(limit: int = 1000) -> int:
    """Publish again the events whose live fan-out failed, oldest first; returns how many."""
    from realtime.models import Event

    sent: list[int] = []
    for event in Event.objects.filter(stream_pending=True).order_by("id")[:limit]:
        try:
            _send(event_frame(event))
        except Exception:
            logger.warning("event_stream_republish_failed", event_id=event.pk, exc_info=True)
            _pending_flag.set()
            break
        sent.append(event.pk)
    if sent:
        Event.objects.filter(pk__in=sent).update(stream_pending=False)
    return len(sent)


@database_sync_to_async
def _frames_after(organization_id: str, after_id: int) -> list[StreamFrame]:
    from realtime.selectors import event_list

    events = event_list(organization_id=uuid.UUID(organization_id), after_id=after_id)
    return [event_frame(event) for event in events[:REPLAY_LIMIT]]


@database_sync_to_async
def _newest_event_id() -> int:
    from realtime.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- Receiving (the ASGI server's event loop) -----------------------------------------------

_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventHub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub() -> EventHub:
    """The hub of the running event loop (one per process under daphne)."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        found = _hubs.get(loop)
        if found is None:
            found = _hubs[loop] = EventHub(loop)
    return found


def _local_dispatch(frame: StreamFrame) -> None:
    with _hubs_lock:
        hubs = list(_hubs.values())
    for each in hubs:
        each.deliver_threadsafe(frame)


class EventHub:
    """This process's connections by organization, fed by one Redis subscription."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.members: dict[str, set[StreamMember]] = defaultdict(set)
        self.queue: asyncio.Queue[StreamFrame] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # set while the subscription is live
        self.last_event_id = 0  # the newest event this hub saw, for catching up after a loss

    async def join(self, organization_id: uuid.UUID | str, member: StreamMember) -> None:
        """Add a connection; returns once the subscription is live (or after
        SUBSCRIBE_WAIT_SECONDS if Redis is unreachable: the catch-up covers that case)."""
        self.members[str(organization_id)].add(member)
        if self.task is None or self.task.done():
            if settings.REDIS_URL:
                self.task = self.loop.create_task(self._redis_source())
            else:
                self.ready.set()
                self.task = self.loop.create_task(self._local_source())
        if not self.ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), SUBSCRIBE_WAIT_SECONDS)

    def leave(self, organization_id: uuid.UUID | str, member: StreamMember) -> None:
        members = self.members.get(str(organization_id))
        if members is not None:
            members.discard(member)
            if not members:
                del self.members[str(organization_id)]

    def deliver_threadsafe(self, frame: StreamFrame) -> None:
        if frame.organization_id in self.members:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, frame)

    async def _dispatch(self, frame: StreamFrame) -> None:
        # A snapshot: members may leave while we await their sends.
        for member in tuple(self.members.get(frame.organization_id, ())):
            try:
                await member.stream_event(frame.event_id, frame.release_id, frame.text)
            except Exception:  # one broken connection must not starve the others
                logger.warning("event_stream_send_failed", event_id=frame.event_id, exc_info=True)

    async def _local_source(self) -> None:
        while True:
            await self._dispatch(await self.queue.get())

    async def _redis_source(self) -> None:
        import redis.asyncio as aioredis

        pattern = f"{channel_prefix()}*"
        failures = 0
        lost = False
        while True:
            client = aioredis.Redis.from_url(
                settings.REDIS_URL, socket_keepalive=True, client_name=HUB_CLIENT_NAME
            )
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(pattern)
                    if lost:  # events may have been published while we were away
                        await self._catch_up(self.last_event_id)
                    elif not self.last_event_id:  # where a later catch-up would start
                        self.last_event_id = await _newest_event_id()
                    self.ready.set()
                    failures = 0
                    async for message in pubsub.listen():
                        if message["type"] != "pmessage":
                            continue
                        channel = message["channel"].decode()
                        if channel.rsplit(":", 1)[1] in self.members:
                            frame = decode(channel, message["data"])
                            self.last_event_id = max(self.last_event_id, frame.event_id)
                            await self._dispatch(frame)
                        else:
                            event_id = int(message["data"].split(b"\t", 1)[0])
                            self.last_event_id = max(self.last_event_id, event_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.ready.clear()
                lost = True
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.warning("event_stream_subscription_lost", retry_in=delay, exc_info=True)
                await asyncio.sleep(delay)
            finally:
                await client.aclose()

    async def _catch_up(self, after_id: int) -> None:
        """Read each organization's missed events from the outbox once and dispatch them as
        if they had arrived live (connections drop what they already sent)."""
        for organization_id in list(self.members):
            try:
                frames = await _frames_after(organization_id, after_id)
            except Exception:
                logger.warning("event_stream_catch_up_failed", exc_info=True)
                continue
            for frame in frames:
                self.last_event_id = max(self.last_event_id, frame.event_id)
                await self._dispatch(frame)
