"""Sales reports as stores send them: plain text, gzip (`.gz`) or a zip holding one report.

Stores compress their monthly reports (a million lines is 70 MB of text, a tenth of that
gzipped). Whatever arrives is stored as it came; every reader (layout detection at upload,
the import's readers, the import command's line count) reads it through `opened_report`,
which decompresses as it reads, so a report is never expanded in memory or on disk. A
report's checksum (`report_content`) is of its text, so the same report sent plain and
gzipped is one report: the second upload is a duplicate.

The kind is told by the first bytes, not by the file's name. A damaged archive, a zip with
no report or several, an encrypted zip, or text past `SALES_REPORT_MAX_EXPANDED_BYTES` once
decompressed (a zip bomb) is refused: at upload, with the reason, and if it happens
during an import anyway (a stored file changed), the report is rejected whole.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, cast

from royalties.parsers.base import ReportMalformed

GZIP, ZIP = "gzip", "zip"
# A zip starts with its first member, or (holding none) with the end of its directory.
_MAGIC = {b"\x1f\x8b": GZIP, b"PK\x03\x04": ZIP, b"PK\x05\x06": ZIP}
_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError, NotImplementedError)
HASH_CHUNK_BYTES = 1024 * 1024
HEAD_BYTES = 8192


class ExpandsTooFar(ReportMalformed):
    """The text of a compressed report is larger than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The report is larger than the {limit // (1024 * 1024)} MB limit once decompressed."
        )


def compression_of(head: bytes) -> str:
    """`gzip`, `zip`, or "" for a plain file, from its first bytes."""
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "")


@dataclass(frozen=True)
class ReportContent:
    """A report's text as its checksum and first bytes (for layout detection)."""

    sha256: str
    head: bytes


def report_content(file: IO[bytes], *, sha256: str, head: bytes, max_bytes: int) -> ReportContent:
    """The content of an uploaded file whose bytes have the digest `sha256` and start with
    `head`: the same for a plain file; a compressed one is read through once. Raises
    `ReportMalformed` (or `ExpandsTooFar`) for one that cannot be read."""
    if not compression_of(head):
        return ReportContent(sha256, head)
    digest, first = hashlib.sha256(), b""
    with opened_report(file, max_bytes=max_bytes) as text:
        while chunk := text.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            if len(first) < HEAD_BYTES:
                first += chunk[: HEAD_BYTES - len(first)]
    file.seek(0)
    return ReportContent(digest.hexdigest(), first)


@contextmanager
def opened_report(raw: IO[bytes], *, max_bytes: int) -> Iterator[IO[bytes]]:
    """The report's text from `raw` (seekable, at its start): `raw` itself if it is plain,
    else a stream that decompresses as it is read and raises `ReportMalformed` for a
    damaged archive or past `max_bytes` of text."""
    head = raw.read(4)
    raw.seek(0)
    compression = compression_of(head)
    if not compression:
        yield raw
        return
    with _decompressed(raw, compression) as stream:
        yield io.BufferedReader(_Checked(stream, compression, max_bytes), HASH_CHUNK_BYTES)


@contextmanager
def _decompressed(raw: IO[bytes], compression: str) -> Iterator[IO[bytes]]:
    if compression == GZIP:
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield cast(IO[bytes], unzipped)  # a BufferedIOBase: read() is all that is used
        return
    try:
        archive = zipfile.ZipFile(raw)
    except _ERRORS as exc:
        raise ReportMalformed(f"The zip file is damaged: {exc}.") from None
    with archive:
        # Archivers on macOS add their own folder of metadata beside the files.
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
        if len(members) != 1:
            names = ", ".join(info.filename for info in members[:10])
            raise ReportMalformed(
                "A zip file must hold exactly one report; this one holds "
                f"{len(members)} file(s){': ' + names if names else ''}."
            )
        (member,) = members
        if member.flag_bits & 0x1:
            raise ReportMalformed(f"The zip file is encrypted ({member.filename}).")
        try:
            extracted = archive.open(member)
        except _ERRORS as exc:
            raise ReportMalformed(f"The zip file cannot be read: {exc}.") from None
        with extracted:
            yield extracted


class _Checked(io.RawIOBase):
    """A decompressing stream whose errors are the report's, and which stops past
    `max_bytes` of text."""

    def __init__(self, stream: IO[bytes], compression: str, max_bytes: int) -> None:
        super().__init__()
        self._stream, self._compression, self._max_bytes = stream, compression, max_bytes
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._stream.read(len(buffer))
        except _ERRORS as exc:
            raise ReportMalformed(f"The {self._compression} file is damaged: {exc}.") from None
        self._read += len(data)
        if self._read > self._max_bytes:
            raise ExpandsTooFar(self._max_bytes)
        buffer[: len(data)] = data
        return len(data)
