"""A store's SFTP drop, over paramiko.

Each file is uploaded (streamed, pipelined) to a hidden temporary beside its target and then
renamed over the target with OpenSSH's `posix-rename` extension, so the store only ever sees
whole files under their final names. Servers without that extension get remove-then-rename,
which has a moment with no file at all but never a partial one. A re-run skips files whose
size already matches (and, for the small XML files, whose bytes match): comparing checksums of
big resources would mean downloading them, and a final name only ever holds a whole upload.

One instance holds one connection and is meant for one thread (a Celery task).
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import io
import posixpath
import socket
import stat
from datetime import UTC, datetime
from pathlib import Path

import paramiko

from ._tree import FileTreeTransport, temporary_name
from .base import AckFile
from .config import SftpConfig
from .errors import PermanentTransportError, TransientTransportError, TransportError

_PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR}
_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)


def load_private_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    """Parse a private key given as text (a secret from the environment, not a file path)."""
    for key_class in _KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except (paramiko.SSHException, ValueError):
            continue
    raise PermanentTransportError("the SFTP private key is not a readable Ed25519/ECDSA/RSA key")


class _FingerprintPolicy(paramiko.MissingHostKeyPolicy):
    """Accept the server only if its host key has the configured SHA256 fingerprint.

    No known_hosts file is involved: a worker container has none, and the fingerprint a store
    publishes is exactly what an operator can paste into the store's settings.
    """

    def __init__(self, expected: str | None) -> None:
        self.expected = expected.strip().rstrip("=") if expected else None

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        if self.expected is None:  # explicitly disabled in the config
            return
        if not hmac.compare_digest(key.fingerprint, self.expected):
            raise PermanentTransportError(
                f"host key of {hostname} is {key.fingerprint}, expected {self.expected}"
            )


class SftpTransport(FileTreeTransport):
    """Delivers below `config.root` on an SFTP server, connecting on first use."""

    def __init__(self, config: SftpConfig) -> None:
        super().__init__(ack_dir=config.ack_dir, ack_archive_dir=config.ack_archive_dir)
        self.config = config
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._folders: set[str] = set()
        self._posix_rename = True

    def location(self, batch_id: str) -> str:
        path = posixpath.join(self.config.root, batch_id).lstrip("/")
        return f"sftp://{self.config.username}@{self.config.host}:{self.config.port}/{path}"

    # --- connection -----------------------------------------------------------------------

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self._connect()
        return self._sftp

    def _connect(self) -> paramiko.SFTPClient:
        config = self.config
        key = (
            load_private_key(config.private_key, config.private_key_passphrase)
            if config.private_key
            else None
        )
        client = paramiko.SSHClient()
        expected = None if config.insecure_skip_host_key_check else config.host_key_fingerprint
        client.set_missing_host_key_policy(_FingerprintPolicy(expected))
        try:
            client.connect(
                config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                pkey=key,
                timeout=config.timeout_seconds,
                banner_timeout=config.timeout_seconds,
                auth_timeout=config.timeout_seconds,
                channel_timeout=config.timeout_seconds,
                allow_agent=False,
                look_for_keys=False,
            )
            sftp = client.open_sftp()
        except BaseException:
            client.close()
            raise
        # A stalled server must surface as a timeout, not hang the worker forever.
        sftp.get_channel().settimeout(config.timeout_seconds)  # type: ignore[union-attr]
        self._client = client
        return sftp

    def _disconnect(self) -> None:
        sftp, client = self._sftp, self._client
        self._sftp = self._client = None
        self._folders.clear()
        for closable in (sftp, client):
            if closable is not None:
                # The link is being dropped anyway; a failing close changes nothing.
                with contextlib.suppress(Exception):
                    closable.close()

    def _classify(self, exc: Exception) -> TransportError | None:
        target = f"{self.config.host}:{self.config.port}"
        if isinstance(exc, paramiko.AuthenticationException):
            return PermanentTransportError(f"SFTP authentication failed at {target}: {exc}")
        if isinstance(exc, paramiko.BadHostKeyException | paramiko.ssh_exception.IncompatiblePeer):
            return PermanentTransportError(f"SFTP server {target} refused: {exc}")
        if isinstance(exc, paramiko.SSHException | EOFError | socket.timeout):
            return TransientTransportError(f"SFTP connection to {target} failed: {exc!r}")
        if isinstance(exc, OSError):
            if exc.errno in _PERMANENT_ERRNOS:
                return PermanentTransportError(f"SFTP at {target}: {exc}")
            return TransientTransportError(f"SFTP at {target}: {exc!r}")
        return None

    # --- file primitives ------------------------------------------------------------------

    def _full(self, path: str) -> str:
        return posixpath.join(self.config.root, path)

    def _stat(self, path: str) -> paramiko.SFTPAttributes | None:
        try:
            return self.sftp.stat(self._full(path))
        except FileNotFoundError:
            return None

    def _exists(self, path: str) -> bool:
        found = self._stat(path)
        return found is not None and stat.S_ISREG(found.st_mode or 0)

    def _ensure_folder(self, path: str) -> None:
        full = posixpath.normpath(self._full(path))
        prefix = "/" if full.startswith("/") else ""
        for part in full.strip("/").split("/"):
            prefix = posixpath.join(prefix, part) if prefix else part
            if prefix in self._folders or prefix in {".", "/"}:
                continue
            try:
                self.sftp.stat(prefix)
            except FileNotFoundError:
                try:
                    self.sftp.mkdir(prefix)
                except OSError:
                    # Another worker may have created it meanwhile; fail only if it is absent.
                    self.sftp.stat(prefix)
            self._folders.add(prefix)

    def _matches(self, path: str, size: int, sha256: str, data: bytes | None) -> bool:
        found = self._stat(path)
        if found is None or found.st_size != size:
            return False
        return data is None or self._read(path) == data

    def _put_file(self, source: Path, path: str, size: int, sha256: str) -> None:
        temporary = temporary_name(path)
        self.sftp.put(str(source), self._full(temporary), confirm=True)
        self._rename(temporary, path)

    def _put_bytes(self, data: bytes, path: str, sha256: str) -> None:
        temporary = temporary_name(path)
        self.sftp.putfo(io.BytesIO(data), self._full(temporary), len(data), confirm=True)
        self._rename(temporary, path)

    def _rename(self, source: str, target: str) -> None:
        old, new = self._full(source), self._full(target)
        if self._posix_rename:
            try:
                self.sftp.posix_rename(old, new)
                return
            except OSError as exc:
                if exc.errno is not None:
                    raise
                # Plain failure status: most likely a server without posix-rename.
                self._posix_rename = False
        if self._exists(target):
            self.sftp.remove(new)
        self.sftp.rename(old, new)

    def _list_files(self, folder: str) -> list[AckFile]:
        try:
            entries = self.sftp.listdir_attr(self._full(folder))
        except FileNotFoundError:
            return []
        return [
            AckFile(
                name=entry.filename,
                path=f"{folder}/{entry.filename}",
                size=entry.st_size or 0,
                modified=datetime.fromtimestamp(entry.st_mtime, UTC) if entry.st_mtime else None,
            )
            for entry in entries
            if stat.S_ISREG(entry.st_mode or 0)
        ]

    def _read(self, path: str) -> bytes:
        with self.sftp.open(self._full(path), "rb") as handle:
            handle.prefetch()
            return handle.read()

    def _move(self, source: str, target: str) -> None:
        self._rename(source, target)
