"""A store's drop that is a local (or mounted) folder.

Used by the embedded profile, by tests, and for stores reached through a mounted share. Each
file is copied in chunks to a hidden temporary beside its target, flushed to disk, and renamed
over the target with `os.replace`, which is atomic within one filesystem.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ._tree import FileTreeTransport, sha256_file, temporary_name
from .base import AckFile
from .config import FilesystemConfig
from .errors import PermanentTransportError, TransientTransportError, TransportError

# Errors an operator has to fix (permissions, a file where a folder should be, a read-only
# mount); anything else from the OS (disk full, I/O error) may clear up on a later try.
_PERMANENT_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENOENT,
    errno.ENAMETOOLONG,
}
_CHUNK = 1024 * 1024

_Filler = Callable[[BinaryIO], object]


class FilesystemTransport(FileTreeTransport):
    """Delivers into `config.root`, creating it (and the batch folders) as needed."""

    def __init__(self, config: FilesystemConfig) -> None:
        super().__init__(ack_dir=config.ack_dir, ack_archive_dir=config.ack_archive_dir)
        self.root = Path(config.root).absolute()
        self.fsync = config.fsync

    def location(self, batch_id: str) -> str:
        return (self.root / batch_id).as_uri()

    def _classify(self, exc: Exception) -> TransportError | None:
        if isinstance(exc, OSError):
            detail = f"{exc.strerror or exc} ({exc.filename or self.root})"
            if exc.errno in _PERMANENT_ERRNOS:
                return PermanentTransportError(detail)
            return TransientTransportError(detail)
        return None

    def _disconnect(self) -> None:
        """A folder has no connection to drop."""

    def _path(self, path: str) -> Path:
        return self.root / path

    def _exists(self, path: str) -> bool:
        return self._path(path).is_file()

    def _ensure_folder(self, path: str) -> None:
        self._path(path).mkdir(parents=True, exist_ok=True)

    def _matches(self, path: str, size: int, sha256: str, data: bytes | None) -> bool:
        target = self._path(path)
        try:
            if target.stat().st_size != size:
                return False
        except FileNotFoundError:
            return False
        # A local re-read is cheap next to a re-write, and only happens when sizes agree.
        return sha256_file(target) == sha256

    def _put_file(self, source: Path, path: str, size: int, sha256: str) -> None:
        with source.open("rb") as reader:
            self._write_atomically(path, lambda writer: shutil.copyfileobj(reader, writer, _CHUNK))

    def _put_bytes(self, data: bytes, path: str, sha256: str) -> None:
        self._write_atomically(path, lambda writer: writer.write(data))

    def _write_atomically(self, path: str, fill: _Filler) -> None:
        target = self._path(path)
        temporary = self._path(temporary_name(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as writer:
            fill(writer)
            if self.fsync:
                writer.flush()
                os.fsync(writer.fileno())
        os.replace(temporary, target)
        if self.fsync:
            # Make the rename itself durable, so the marker never survives a crash that
            # loses a file renamed just before it.
            descriptor = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def _list_files(self, folder: str) -> list[AckFile]:
        try:
            entries = list(os.scandir(self._path(folder)))
        except FileNotFoundError:
            return []  # the store has not acknowledged anything yet
        found = []
        for entry in entries:
            if entry.is_file():
                stat = entry.stat()
                found.append(
                    AckFile(
                        name=entry.name,
                        path=f"{folder}/{entry.name}",
                        size=stat.st_size,
                        modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
        return found

    def _read(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def _move(self, source: str, target: str) -> None:
        os.replace(self._path(source), self._path(target))
