"""The contract every store transport fulfils, and the plain data it works on.

Transports sit below the services layer and never touch the ORM: the delivery service turns a
delivery row into a `Batch` (file names, XML bytes, local paths of the assets) and a store row
into a config dataclass, and gets back a `DeliveryReceipt` it can record. Keeping this layer
free of Django lets it be tested against real servers without a database and reused by scripts.

Layout on the store's drop, after the DDEX ERN batch choreography::

    <root>/<batch id>/<release folder>/<xml name>.xml
    <root>/<batch id>/<release folder>/resources/<file>
    <root>/<batch id>/BatchComplete_<batch id>.xml      (written last)

The store starts ingesting a batch only when the marker exists, so it never reads a half-written
batch; a transport writes the marker only after every other file is complete in place.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

RESOURCES_FOLDER = "resources"
MARKER_PREFIX = "BatchComplete_"

# One path segment that is safe on every store: no separators, no "..", no leading dot (dot
# files are how transports name their half-written temporaries) and nothing a shell or an
# S3 console would mangle.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")


def check_name(name: str, what: str) -> str:
    """Reject a file or folder name that could escape its folder or clash with temporaries."""
    if not _SAFE_NAME.match(name) or name in {".", ".."}:
        raise ValueError(f"{what} {name!r} is not a safe file name")
    return name


def make_batch_id(when: datetime | None = None, suffix: str | None = None) -> str:
    """A batch folder name that sorts by creation time: `YYYYMMDDhhmmssnnn_<suffix>`.

    Stores process batches in name order, so the timestamp leads (UTC, milliseconds); the
    suffix keeps two batches created in the same millisecond apart.
    """
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"
    return check_name(f"{stamp}_{suffix or secrets.token_hex(4)}", "batch id")


@dataclass(frozen=True)
class Resource:
    """One asset file: streamed from `source` and stored as `name` (the name the XML uses)."""

    source: Path
    name: str

    def __post_init__(self) -> None:
        check_name(self.name, "resource name")


@dataclass(frozen=True)
class ReleasePackage:
    """One release's folder: its ERN message and the resources the message references."""

    folder: str
    xml_name: str
    xml: bytes
    resources: tuple[Resource, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.folder, "release folder")
        check_name(self.xml_name, "XML name")
        if not self.xml_name.endswith(".xml"):
            raise ValueError(f"XML name {self.xml_name!r} must end in .xml")
        names = [resource.name for resource in self.resources]
        if len(set(names)) != len(names):
            raise ValueError(f"release {self.folder!r} names a resource twice")


@dataclass(frozen=True)
class Batch:
    """A set of releases delivered together and closed by one completion marker.

    `marker_content` is empty by default (the choreography's zero-byte semaphore file); a
    caller may put a manifest in it instead.
    """

    batch_id: str
    releases: tuple[ReleasePackage, ...]
    marker_content: bytes = b""

    def __post_init__(self) -> None:
        check_name(self.batch_id, "batch id")
        folders = [release.folder for release in self.releases]
        if not folders:
            raise ValueError("a batch needs at least one release")
        if len(set(folders)) != len(folders):
            raise ValueError(f"batch {self.batch_id!r} names a release folder twice")

    @property
    def marker_name(self) -> str:
        return f"{MARKER_PREFIX}{self.batch_id}.xml"

    @property
    def marker_path(self) -> str:
        return f"{self.batch_id}/{self.marker_name}"


@dataclass(frozen=True)
class DeliveredFile:
    """One file of a batch as it stands on the store after a delivery run.

    `uploaded` is False when an earlier run had already put identical content in place.
    """

    path: str
    size: int
    sha256: str
    uploaded: bool


@dataclass(frozen=True)
class DeliveryReceipt:
    """What a delivery run did, for the caller to record on the delivery row.

    `already_complete` means the marker was found before anything was written: an earlier run
    finished the batch, so this run uploaded nothing and `files` is empty.
    """

    batch_id: str
    location: str
    marker_path: str
    already_complete: bool
    files: tuple[DeliveredFile, ...] = ()

    @property
    def uploaded_files(self) -> tuple[DeliveredFile, ...]:
        return tuple(item for item in self.files if item.uploaded)

    @property
    def uploaded_bytes(self) -> int:
        return sum(item.size for item in self.uploaded_files)


@dataclass(frozen=True)
class AckFile:
    """An acknowledgement file the store left in the ack folder; `path` is relative to root."""

    name: str
    path: str
    size: int
    modified: datetime | None = field(default=None, compare=False)


FileCallback = Callable[[DeliveredFile], None]


@runtime_checkable
class Transport(Protocol):
    """A connection to one store's drop (a folder, an SFTP server, an S3 prefix).

    Implementations connect lazily, reconnect after a transient failure, and are context
    managers so a task can `with transport_for(config) as transport: ...`.
    """

    def deliver_batch(
        self, batch: Batch, *, on_file: FileCallback | None = None
    ) -> DeliveryReceipt:
        """Put every file of `batch` in place, then the marker; safe to re-run after a crash.

        `on_file` is called after each file is in place (or found already there), for
        progress events; an exception it raises stops the run without writing the marker.
        """
        ...

    def list_acknowledgements(self) -> list[AckFile]:
        """The acknowledgement files waiting in the ack folder, oldest name first."""
        ...

    def read(self, path: str) -> bytes:
        """The content of a (small) file, by path relative to the transport's root."""
        ...

    def archive_acknowledgement(self, ack: AckFile) -> None:
        """Move a processed acknowledgement to the archive folder; a repeat is a no-op."""
        ...

    def close(self) -> None:
        """Release the connection; the transport reconnects if used again."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
