"""The web server feeds request bodies to the application one chunk per receive()."""

from __future__ import annotations

import asyncio
import io

from enterprise_suite.server import BODY_CHUNK_SIZE, OnDemandBodyQueue


def _drain(queue: OnDemandBodyQueue) -> list[dict[str, object]]:
    async def run() -> list[dict[str, object]]:
        messages = []
        while True:
            message = await queue.get()
            messages.append(message)
            if message["type"] != "http.request" or not message["more_body"]:
                return messages

    return asyncio.run(run())


def test_body_is_read_lazily_in_chunks_and_closed_at_the_end() -> None:
    data = bytes(range(256)) * (BODY_CHUNK_SIZE // 256) * 2 + b"tail"
    body = io.BytesIO(data)
    queue = OnDemandBodyQueue(body)
    queue.put_nowait({"type": "http.request", "body": b"", "more_body": False})  # daphne's
    assert body.tell() == 0  # nothing read before the application asks
    messages = _drain(queue)
    assert b"".join(m["body"] for m in messages) == data  # type: ignore[misc]
    assert [m["more_body"] for m in messages] == [True, True, False]
    assert body.closed


def test_a_disconnect_is_delivered_before_the_rest_of_the_body() -> None:
    body = io.BytesIO(b"x" * (BODY_CHUNK_SIZE * 3))
    queue = OnDemandBodyQueue(body)
    queue.put_nowait({"type": "http.disconnect"})
    assert _drain(queue) == [{"type": "http.disconnect"}]


def test_a_closed_spool_file_reads_as_a_disconnect() -> None:
    body = io.BytesIO(b"abc")
    body.close()
    assert _drain(OnDemandBodyQueue(body)) == [{"type": "http.disconnect"}]


def test_without_a_body_the_queue_is_a_plain_queue() -> None:
    queue = OnDemandBodyQueue(None)
    queue.put_nowait({"type": "http.request", "body": b"hi", "more_body": False})
    assert _drain(queue) == [{"type": "http.request", "body": b"hi", "more_body": False}]
