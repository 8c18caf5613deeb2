"""The delivery algorithm shared by every transport, written once over a few file primitives.

Each transport only says how to test, write, list, read and move one file on its store; the
order of writes, the skip-if-identical rule, the completion marker and the error mapping live
here so the three transports cannot drift apart on the guarantees callers rely on:

- the marker is written after every other file of the batch is in place, and never if any
  of them failed;
- a file is written under a temporary name and renamed into place (or put atomically), so a
  path that exists on the store always holds a whole file;
- a re-run skips files whose size and checksum already match and, if the marker exists,
  writes nothing at all.
"""

from __future__ import annotations

import hashlib
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from .base import (
    RESOURCES_FOLDER,
    AckFile,
    Batch,
    DeliveredFile,
    DeliveryReceipt,
    FileCallback,
)
from .errors import PermanentTransportError, TransportError


def sha256_file(path: Path) -> str:
    """Hash a local file in chunks: sources can be hundreds of MB and are never read whole."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _local_digest(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:  # the asset vanished mid-run: retrying will not bring it back
        raise PermanentTransportError(f"resource source {path} is not readable: {exc}") from exc


def clean_relative(path: str) -> str:
    """Normalize a path given relative to the root and refuse one that escapes it."""
    normal = posixpath.normpath(path.strip().lstrip("/"))
    if normal in {"", "."} or normal == ".." or normal.startswith("../"):
        raise PermanentTransportError(f"path {path!r} is outside the transport root")
    return normal


def temporary_name(path: str) -> str:
    """The hidden sibling a file is written to before being renamed into place.

    It is the same on every run, so a re-run after a crash overwrites a half-written
    temporary instead of leaving a second one behind.
    """
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.partial")


class FileTreeTransport(ABC):
    """A transport that stores a batch as a tree of files below a root."""

    def __init__(self, *, ack_dir: str, ack_archive_dir: str) -> None:
        self.ack_dir = clean_relative(ack_dir)
        self.ack_archive_dir = clean_relative(ack_archive_dir)

    # --- the public contract --------------------------------------------------------------

    def deliver_batch(
        self, batch: Batch, *, on_file: FileCallback | None = None
    ) -> DeliveryReceipt:
        """Write every release's resources and XML, then the marker; see the module doc."""
        sizes = self._check_sources(batch)
        with self._guard():
            if self._exists(batch.marker_path):
                return DeliveryReceipt(
                    batch_id=batch.batch_id,
                    location=self.location(batch.batch_id),
                    marker_path=batch.marker_path,
                    already_complete=True,
                )
        delivered: list[DeliveredFile] = []
        for release in batch.releases:
            folder = f"{batch.batch_id}/{release.folder}"
            with self._guard():
                self._ensure_folder(f"{folder}/{RESOURCES_FOLDER}" if release.resources else folder)
            for resource in release.resources:
                path = f"{folder}/{RESOURCES_FOLDER}/{resource.name}"
                size, digest = sizes[resource.source], _local_digest(resource.source)
                with self._guard():
                    uploaded = not self._matches(path, size, digest, None)
                    if uploaded:
                        self._put_file(resource.source, path, size, digest)
                delivered.append(DeliveredFile(path, size, digest, uploaded))
                if on_file is not None:
                    on_file(delivered[-1])
            path = f"{folder}/{release.xml_name}"
            digest = hashlib.sha256(release.xml).hexdigest()
            with self._guard():
                uploaded = not self._matches(path, len(release.xml), digest, release.xml)
                if uploaded:
                    self._put_bytes(release.xml, path, digest)
            delivered.append(DeliveredFile(path, len(release.xml), digest, uploaded))
            if on_file is not None:
                on_file(delivered[-1])
        with self._guard():
            content = batch.marker_content
            self._put_bytes(content, batch.marker_path, hashlib.sha256(content).hexdigest())
        return DeliveryReceipt(
            batch_id=batch.batch_id,
            location=self.location(batch.batch_id),
            marker_path=batch.marker_path,
            already_complete=False,
            files=tuple(delivered),
        )

    def list_acknowledgements(self) -> list[AckFile]:
        with self._guard():
            found = self._list_files(self.ack_dir)
        visible = [ack for ack in found if not ack.name.startswith(".")]
        return sorted(visible, key=lambda ack: ack.name)

    def read(self, path: str) -> bytes:
        relative = clean_relative(path)
        with self._guard():
            return self._read(relative)

    def archive_acknowledgement(self, ack: AckFile) -> None:
        source = clean_relative(ack.path)
        target = f"{self.ack_archive_dir}/{ack.name}"
        with self._guard():
            if not self._exists(source):
                if self._exists(target):
                    return  # archived by an earlier run that crashed before recording it
                raise PermanentTransportError(f"acknowledgement {source!r} not found")
            self._ensure_folder(self.ack_archive_dir)
            self._move(source, target)

    def close(self) -> None:
        self._disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _check_sources(batch: Batch) -> dict[Path, int]:
        """Stat every local source before writing anything, so a missing asset fails the
        delivery up front instead of after half the batch went out."""
        sizes: dict[Path, int] = {}
        for release in batch.releases:
            for resource in release.resources:
                try:
                    sizes[resource.source] = resource.source.stat().st_size
                except OSError as exc:
                    raise PermanentTransportError(
                        f"resource source {resource.source} is not readable: {exc}"
                    ) from exc
        return sizes

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Map library errors to the two transport errors and drop a possibly broken link."""
        try:
            yield
        except TransportError:
            self._disconnect()
            raise
        except Exception as exc:
            error = self._classify(exc)
            if error is None:
                raise
            self._disconnect()
            raise error from exc

    # --- what each transport provides -----------------------------------------------------

    @abstractmethod
    def location(self, batch_id: str) -> str:
        """A URI of the batch folder, for receipts and logs (no secrets)."""

    @abstractmethod
    def _classify(self, exc: Exception) -> TransportError | None:
        """The transport error for a library error, or None to let it propagate."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the connection, if any; the next call reconnects."""

    @abstractmethod
    def _exists(self, path: str) -> bool: ...

    @abstractmethod
    def _ensure_folder(self, path: str) -> None: ...

    @abstractmethod
    def _matches(self, path: str, size: int, sha256: str, data: bytes | None) -> bool:
        """Whether `path` already holds this content; `data` is given for small files."""

    @abstractmethod
    def _put_file(self, source: Path, path: str, size: int, sha256: str) -> None:
        """Stream a local file to `path`, atomically replacing whatever is there."""

    @abstractmethod
    def _put_bytes(self, data: bytes, path: str, sha256: str) -> None:
        """Write small content to `path`, atomically replacing whatever is there."""

    @abstractmethod
    def _list_files(self, folder: str) -> list[AckFile]:
        """Regular files directly in `folder` (none if it does not exist)."""

    @abstractmethod
    def _read(self, path: str) -> bytes: ...

    @abstractmethod
    def _move(self, source: str, target: str) -> None:
        """Move a file, replacing `target` if it exists."""
