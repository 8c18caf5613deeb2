"""A real SFTP server for transport tests: asyncssh's SFTP server chrooted to a temp folder.

It stands in for a store's server, so the client under test (paramiko) talks the real protocol
to an independent implementation. It runs its own event loop in a background thread, listens
on a fixed 127.0.0.1 port, and can be stopped (listener closed, live connections aborted, as
when a store's server crashes) and started again on the same port. It records what clients
write, in order, so tests can check write order from the server's side, and it can be told to
crash in the middle of an upload.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh

USERNAME = "store"
PASSWORD = "s3cret-password"

# Called on every write with (path being written, bytes written so far to it); returning True
# crashes the server right there.
CrashRule = Callable[[str, int], bool]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Auth(asyncssh.SSHServer):
    def __init__(self, owner: SftpTestServer) -> None:
        self.owner = owner
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.owner.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True  # always require authentication

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USERNAME and password == PASSWORD

    def public_key_auth_supported(self) -> bool:
        return self.owner.authorized_key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        allowed = self.owner.authorized_key
        return username == USERNAME and allowed is not None and key.public_data == allowed


class _RecordingSftp(asyncssh.SFTPServer):
    """The stock chrooted SFTP server, plus a log of writes and renames and a crash hook."""

    def __init__(self, owner: SftpTestServer, chan: asyncssh.SSHServerChannel) -> None:
        super().__init__(chan, chroot=str(owner.root).encode())
        self.owner = owner
        self.written: dict[int, tuple[str, int]] = {}

    @staticmethod
    def _name(path: bytes) -> str:
        return posixpath.normpath("/" + path.decode().lstrip("/"))

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> Any:
        handle = super().open(path, pflags, attrs)
        if pflags & asyncssh.FXF_WRITE:
            self.owner.log.append(("open", self._name(path)))
            self.written[id(handle)] = (self._name(path), 0)
        return handle

    def write(self, file_obj: Any, offset: int, data: bytes) -> Any:
        name, count = self.written.get(id(file_obj), ("?", 0))
        count += len(data)
        self.written[id(file_obj)] = (name, count)
        rule = self.owner.crash_rule
        if rule is not None and rule(name, count):
            self.owner.crash_rule = None
            self.owner.crash_now()
            raise asyncssh.SFTPConnectionLost("server crashed")
        return super().write(file_obj, offset, data)

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> Any:
        self.owner.log.append(("mkdir", self._name(path)))
        return super().mkdir(path, attrs)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> Any:
        if not self.owner.posix_rename_supported:
            raise asyncssh.SFTPOpUnsupported("posix-rename is not supported here")
        self.owner.log.append(("rename", self._name(newpath)))
        return super().posix_rename(oldpath, newpath)

    def rename(self, oldpath: bytes, newpath: bytes) -> Any:
        self.owner.log.append(("rename", self._name(newpath)))
        return super().rename(oldpath, newpath)


class SftpTestServer:
    """Start with `start()`; `stop()` and `start()` again keep the port, root and host key."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        asyncssh.set_log_level("WARNING")  # per-packet INFO lines would swamp a failure report
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.fingerprint: str = self.host_key.get_fingerprint("sha256")
        self.authorized_key: bytes | None = None
        # Off, the server behaves like one without OpenSSH's extensions (plain v3 rename,
        # which refuses to replace an existing file).
        self.posix_rename_supported = True
        self.crash_rule: CrashRule | None = None
        self.log: list[tuple[str, str]] = []
        self.connections: set[Any] = set()
        self._acceptor: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def authorize(self, public_key: asyncssh.SSHKey) -> None:
        self.authorized_key = public_key.public_data

    def start(self) -> None:
        async def listen() -> Any:
            return await asyncssh.listen(
                "127.0.0.1",
                self.port,
                server_host_keys=[self.host_key],
                server_factory=lambda: _Auth(self),
                sftp_factory=lambda chan: _RecordingSftp(self, chan),
                allow_scp=False,
                reuse_address=True,
            )

        self._acceptor = self._call(listen())

    def crash_now(self) -> None:
        """Close the listener and drop every connection; runs on the server's loop."""
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        for conn in list(self.connections):
            conn.abort()
        self.connections.clear()

    def stop(self) -> None:
        async def stop() -> None:
            acceptor = self._acceptor
            self.crash_now()
            if acceptor is not None:
                await acceptor.wait_closed()

        self._call(stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def written_paths(self) -> list[str]:
        """Final paths renamed into place, in order, as the server saw them."""
        return [path for kind, path in self.log if kind == "rename"]

    def tree(self) -> dict[str, bytes]:
        """Every file below the chroot, hidden ones included, by path relative to it."""
        found = {}
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(folder) / name
                found[path.relative_to(self.root).as_posix()] = path.read_bytes()
        return found
