"""The web server: daphne, with request bodies handed to the application as it reads them.

Daphne 4.2 spools an upload to a temporary file and then, before the application runs, reads
the whole file onto the application's input queue in 8 KB messages, so a 2 GB audio master
ends up in the process's memory (upstream issue django/daphne#483). This server takes the
spooled file away from daphne's request and feeds it to the application one chunk per
`receive()`, so memory stays flat whatever the upload's size. Everything else is daphne:
`python -m enterprise_suite.server` takes daphne's command-line arguments.

It also tunes the garbage collector for a long-lived server holding thousands of WebSocket
connections (see `tune_gc`).

On SIGTERM it drains instead of cancelling everything at once: it stops accepting connections,
closes WebSockets with 1001 (going away: clients reconnect to another task and resume), and
gives HTTP requests in flight up to `WEB_DRAIN_SECONDS` to finish before daphne cancels what
is left.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import os
import time
from functools import partial
from typing import IO, Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer

BODY_CHUNK_SIZE = 1024 * 1024
WEBSOCKET_GOING_AWAY = 1001
DRAIN_POLL_SECONDS = 0.1
# Allocations between young-generation collections (CPython's default is 700).
GC_GEN0_THRESHOLD = int(os.environ.get("WEB_GC_GEN0_THRESHOLD", "50000"))


def tune_gc() -> None:
    """Freeze what start-up created and collect the young generation less often.

    With 1,000 connections a full collection walks every protocol, consumer and frame buffer
    and stalls the event loop for 200 ms or more, every few events (measured in
    `bench/ws_fanout.py`). Moving the modules, settings and URL patterns loaded at start-up
    into the permanent generation and raising the gen-0 threshold makes those pauses rare and
    short; memory is still reclaimed, reference counting frees almost everything anyway.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


logger = logging.getLogger(__name__)


class OnDemandBodyQueue(asyncio.Queue[dict[str, Any]]):
    """An application input queue that reads the request body from its spooled file lazily."""

    def __init__(self, body: IO[bytes] | None) -> None:
        super().__init__()
        self._body = body

    def put_nowait(self, item: dict[str, Any]) -> None:
        # Daphne still "sends" the (now empty) body; the real one comes from _body.
        if item.get("type") == "http.request" and self._body is not None:
            return
        super().put_nowait(item)

    async def get(self) -> dict[str, Any]:
        if self._body is None or not self.empty():  # a queued disconnect goes first
            return await super().get()
        try:
            chunk = self._body.read(BODY_CHUNK_SIZE)
        except ValueError:  # the connection went away and the spool file was closed
            self._finish_body()
            return {"type": "http.disconnect"}
        more = len(chunk) == BODY_CHUNK_SIZE
        if not more:
            self._finish_body()
        return {"type": "http.request", "body": chunk, "more_body": more}

    def _finish_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()


class StreamingBodyServer(Server):
    def run(self) -> None:
        tune_gc()  # the application is imported by now
        super().run()

    def listen_success(self, port: Any) -> None:
        self.__dict__.setdefault("ports", []).append(port)
        super().listen_success(port)

    def kill_all_applications(self) -> defer.Deferred[Any]:
        # Twisted waits for this Deferred before the reactor stops: drain first, then let
        # daphne cancel whatever is still running.
        drained = defer.Deferred.fromFuture(asyncio.ensure_future(self.drain()))
        drained.addErrback(lambda failure: logger.error("drain failed: %s", failure.value))
        drained.addBoth(lambda _: Server.kill_all_applications(self))
        return drained

    async def drain(self) -> None:
        deadline = time.monotonic() + float(os.environ.get("WEB_DRAIN_SECONDS", "20"))
        for port in self.__dict__.get("ports", []):
            port.stopListening()
        for protocol in list(self.connections):
            if isinstance(protocol, WebSocketProtocol):
                # Autobahn's public sendClose refuses 1001, the code RFC 6455 gives a server
                # going down; its frame-level method sends it.
                protocol.sendCloseFrame(
                    code=WEBSOCKET_GOING_AWAY, reasonUtf8=b"server shutting down"
                )
        # Until every request in flight has answered and every WebSocket has finished its
        # closing handshake (so clients see the close code, not a reset), or time is up.
        while (self._requests_in_flight() or self._websockets_open()) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(DRAIN_POLL_SECONDS)
        logger.info("drained; %d request(s) still in flight", self._requests_in_flight())

    def _websockets_open(self) -> int:
        return sum(
            1
            for protocol in list(self.connections)
            if isinstance(protocol, WebSocketProtocol)
            and protocol.state != WebSocketProtocol.STATE_CLOSED
        )

    def _requests_in_flight(self) -> int:
        return sum(
            1
            for protocol, details in list(self.connections.items())
            if not isinstance(protocol, WebSocketProtocol)
            and details.get("application_instance") is not None
            and not details["application_instance"].done()
        )

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> OnDemandBodyQueue | None:
        assert "application_instance" not in self.connections[protocol]
        body = None
        if scope.get("type") == "http" and getattr(protocol, "content", None) is not None:
            # Hand daphne an empty body and keep the spooled one for the application.
            body, protocol.content = protocol.content, io.BytesIO()
            body.seek(0)
        input_queue = OnDemandBodyQueue(body)
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope, receive=input_queue.get, send=partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            if body is not None:
                body.close()
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return input_queue


class StreamingBodyCommandLine(CommandLineInterface):
    server_class = StreamingBodyServer


if __name__ == "__main__":
    StreamingBodyCommandLine.entrypoint()
