"""Uploads over a real daphne: a client that vanishes mid-body, and bodies over the limit.

An interrupted upload must leave no row, no stored file and no open temporary file in the
server, and the server must keep serving; a body over the limit gets the API's 413 and stores
nothing, whether its length is declared up front or only discovered while streaming (chunked).
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import BIN, ROOT, Caller, MakeCaller, RunningProcess, _free_port, _process_env, _stop
from distribution.models import Asset, Release
from distribution.tests.factories import ReleaseFactory
from distribution.tests.media_files import make_jpeg

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DECLARED_LENGTH = 5_000_000
SENT_BYTES = 1_000_000
SMALL_LIMIT = 200_000


@pytest.fixture(autouse=True)
def _needs_services() -> None:
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis (services profile): daphne runs in a child")


@pytest.fixture
def caller(make_caller: MakeCaller) -> Caller:
    return make_caller(role="manager")


@pytest.fixture
def release(caller: Caller) -> Release:
    return ReleaseFactory(organization=caller.organization)


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    data = make_jpeg(3000, 3000, quality=95)
    assert SENT_BYTES < len(data) < DECLARED_LENGTH
    return data


def _stored_files(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _deleted_open_files(pid: int) -> list[str]:
    """Files the process still holds open after they were unlinked (temporary files)."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed while listing
            continue
        if target.endswith("(deleted)"):
            targets.append(target)
    return targets


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _open_partial_upload(port: int, path: str, token: str, body: bytes) -> socket.socket:
    """A PUT declaring DECLARED_LENGTH bytes of which only `body` is sent; still open."""
    head = (
        f"PUT {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: image/jpeg\r\n"
        f"Content-Length: {DECLARED_LENGTH}\r\n"
        "\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head)
    for start in range(0, len(body), 64 * 1024):
        sock.sendall(body[start : start + 64 * 1024])
    return sock


def _reset(sock: socket.socket) -> None:
    """Close with linger 0: a RST, as from a crashed client or a dropped network."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_interrupted_upload_leaves_nothing_and_the_server_carries_on(
    daphne_server: RunningProcess, caller: Caller, release: Release, jpeg: bytes, settings: Any
) -> None:
    base = f"http://127.0.0.1:{daphne_server.port}"
    path = f"/api/v1/releases/{release.pk}/artwork/"
    auth = {"Authorization": f"Bearer {caller.raw_token}"}
    pid = daphne_server.process.pid
    held_before = _deleted_open_files(pid)

    sock = _open_partial_upload(daphne_server.port, path, caller.raw_token, jpeg[:SENT_BYTES])
    try:
        # The server is receiving: twisted buffers a body this size in a temporary file.
        assert _wait_until(lambda: len(_deleted_open_files(pid)) > len(held_before))
    finally:
        _reset(sock)

    # The server is alive and answers normally.
    assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    current = httpx.get(f"{base}{path}", headers=auth, timeout=10)
    assert current.status_code == 404, current.text
    assert current.json()["error"]["code"] == "not_found"
    # Losing the connection closed the temporary file holding the partial body.
    assert _wait_until(lambda: len(_deleted_open_files(pid)) <= len(held_before)), (
        _deleted_open_files(pid)
    )
    assert not Asset.objects.exists()
    assert _stored_files(settings) == []
    assert daphne_server.process.poll() is None

    complete = httpx.put(
        f"{base}{path}", content=jpeg, headers={**auth, "Content-Type": "image/jpeg"}, timeout=30
    )
    assert complete.status_code == 201, complete.text
    assert complete.json()["size_bytes"] == len(jpeg)
    asset = Asset.objects.get()
    assert str(asset.pk) == complete.json()["id"]
    files = _stored_files(settings)
    assert len(files) == 1
    assert files[0].read_bytes() == jpeg
    assert files[0].as_posix().endswith(asset.file.name)
    assert "Traceback" not in daphne_server.log()


@pytest.fixture
def small_limit_daphne(transactional_db: None, tmp_path: Path) -> Iterator[RunningProcess]:
    """A daphne of our own with ARTWORK_MAX_BYTES=200000, its temporary files in
    `tmp_path / "server-tmp"` so the test can see what it leaves there."""
    port = _free_port()
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    log_path = Path(tempfile.mkdtemp(prefix="daphne-")) / "daphne.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "enterprise_suite.server",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "enterprise_suite.asgi:application",
            ],
            cwd=ROOT,
            env=_process_env(ARTWORK_MAX_BYTES=str(SMALL_LIMIT), TMPDIR=str(server_tmp)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningProcess(process=process, log_path=str(log_path), port=port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"daphne did not start:\n{running.log()}")
            time.sleep(0.2)
        yield running
    finally:
        _stop(process)


def test_bodies_over_the_limit_get_413_and_store_nothing(
    small_limit_daphne: RunningProcess,
    caller: Caller,
    release: Release,
    settings: Any,
    tmp_path: Path,
) -> None:
    base = f"http://127.0.0.1:{small_limit_daphne.port}"
    url = f"{base}/api/v1/releases/{release.pk}/artwork/"
    headers = {"Authorization": f"Bearer {caller.raw_token}", "Content-Type": "image/jpeg"}
    big = make_jpeg(1500, 1500, quality=95)
    assert len(big) > SMALL_LIMIT + 64 * 1024

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    declared = httpx.put(url, content=big, headers=headers, timeout=30)
    # No Content-Length: the limit is found while the body is copied.
    chunked = httpx.put(url, content=chunks(), headers=headers, timeout=30)
    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        assert response.json() == {
            "error": {
                "code": "payload_too_large",
                "message": response.json()["error"]["message"],
                "details": {"max_bytes": SMALL_LIMIT},
            }
        }
    assert "chunked" in chunked.request.headers.get("Transfer-Encoding", "")

    under = make_jpeg(300, 300)
    assert len(under) < SMALL_LIMIT
    accepted = httpx.put(url, content=under, headers=headers, timeout=30)
    assert accepted.status_code == 201, accepted.text

    assert list(Asset.objects.values_list("size_bytes", flat=True)) == [len(under)]
    assert [p.read_bytes() for p in _stored_files(settings)] == [under]
    # Every temporary copy of the refused bodies is gone, on disk and in the process.
    server_tmp = tmp_path / "server-tmp"
    assert _wait_until(lambda: not any(server_tmp.iterdir())), list(server_tmp.iterdir())
    assert _wait_until(lambda: not _deleted_open_files(small_limit_daphne.process.pid))
