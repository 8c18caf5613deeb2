"""Artwork and audio assets: store an upload, supersede the previous one, analyse it."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import IO, BinaryIO, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from distribution.choices import AssetKind, AssetStatus
from distribution.media import (
    ARTWORK_TYPES,
    AUDIO_TYPES,
    SNIFF_BYTES,
    UnreadableMedia,
    analyse_artwork,
    analyse_audio,
    sniff_content_type,
)
from distribution.models import Asset, Release, Track, asset_upload_path
from distribution.services.review import EDITABLE, release_lock_for_edit
from enterprise_suite.errors import InvalidTransition, PayloadTooLarge, UnsupportedMediaType
from realtime.events import publish

HASH_CHUNK_BYTES = 1024 * 1024


def upload_too_large(max_bytes: int, *, size: int | None = None) -> PayloadTooLarge:
    """The error for a file over `max_bytes` (its `size`, when known)."""
    details = {"max_bytes": max_bytes} | ({"size": size} if size is not None else {})
    return PayloadTooLarge(
        f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit.", details=details
    )


@dataclass
class ReceivedUpload:
    """A fully received upload on local disk with its digests; `close()` deletes it."""

    file: IO[bytes]
    size: int
    sha256: str
    md5: str
    head: bytes
    filename: str = ""

    def close(self) -> None:
        self.file.close()

    @classmethod
    def hashed(
        cls,
        source: IO[bytes],
        *,
        file: IO[bytes],
        filename: str = "",
        max_bytes: int | None = None,
    ) -> ReceivedUpload:
        """Read `source` to its end once, a chunk at a time, for its size, digests and first
        bytes; each chunk is also written to `file` unless `file` is `source` itself. Past
        `max_bytes` it raises `PayloadTooLarge`."""
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        size, head = 0, b""
        while chunk := source.read(HASH_CHUNK_BYTES):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise upload_too_large(max_bytes)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            sha256.update(chunk)
            md5.update(chunk)
            if file is not source:
                file.write(chunk)
        if file is not source:
            file.flush()
        file.seek(0)
        return cls(
            file=file, size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest(), head=head,
            filename=filename,
        )  # fmt: skip


_EXPECTED = {
    AssetKind.ARTWORK: (ARTWORK_TYPES, "Artwork must be a JPEG or PNG image"),
    AssetKind.AUDIO: (AUDIO_TYPES, "Audio must be a WAV or FLAC file"),
}


def _publish_status(asset: Asset, previous: str, actor: User | None = None) -> None:
    publish(
        organization_id=asset.organization_id,
        type="asset.status_changed",
        subject_type="asset",
        subject_id=asset.pk,
        release_id=asset.release_id or (asset.track.release_id if asset.track else None),
        actor_id=actor.pk if actor else None,
        data={
            "from": previous,
            "to": asset.status,
            "kind": asset.kind,
            "track_id": str(asset.track_id) if asset.track_id else None,
            "analysis": asset.analysis,
            "error": asset.error,
        },
    )


def asset_upload(
    *,
    kind: str,
    release: Release | None = None,
    track: Track | None = None,
    upload: ReceivedUpload,
    uploaded_by: User | None = None,
) -> Asset:
    """Store a fully received upload as the current artwork (release) or audio (track).

    The type is read from the file's first bytes, never its name. The file is written to
    storage before the row; if anything fails afterwards the stored file is deleted, so an
    upload either lands whole or leaves nothing.
    """
    owner_release = release if release is not None else track.release  # type: ignore[union-attr]
    if owner_release.status not in EDITABLE:  # fail fast, before writing any bytes
        raise InvalidTransition(
            f"The release is {owner_release.status}; files can only change while it is a draft.",
            details={"status": owner_release.status},
        )
    allowed, message = _EXPECTED[AssetKind(kind)]
    content_type = sniff_content_type(upload.head)
    if content_type not in allowed:
        found = content_type or "an unsupported type"
        raise UnsupportedMediaType(
            f"{message}; this file is {found}.", details={"detected": content_type}
        )
    limit = settings.ARTWORK_MAX_BYTES if kind == AssetKind.ARTWORK else settings.AUDIO_MAX_BYTES
    if upload.size > limit:
        raise upload_too_large(limit)
    asset = Asset(
        id=uuid.uuid4(),
        organization_id=owner_release.organization_id,
        kind=kind,
        release=release,
        track=track,
        content_type=content_type,
        size_bytes=upload.size,
        sha256=upload.sha256,
        md5=upload.md5,
        original_filename=upload.filename,
        uploaded_by=uploaded_by,
    )
    stored_name = default_storage.save(asset_upload_path(asset, upload.filename), File(upload.file))
    try:
        with transaction.atomic():
            release_lock_for_edit(release=owner_release, actor=uploaded_by)
            previous = Asset.objects.filter(superseded_at__isnull=True, kind=kind)
            previous = previous.filter(release=release) if release else previous.filter(track=track)
            previous.update(superseded_at=timezone.now())
            asset.file.name = stored_name
            asset.save(force_insert=True)
            _publish_status(asset, previous="", actor=uploaded_by)
            from distribution.tasks import asset_analyse

            asset_analyse.delay_on_commit(str(asset.pk))  # type: ignore[attr-defined]
    except BaseException:
        default_storage.delete(stored_name)
        raise
    return asset


def asset_analyse(*, asset_id: uuid.UUID | str) -> Asset | None:
    """Read the stored file and record what it is. A rerun after the asset has reached
    `ready` or `unreadable` does nothing; a rerun of an interrupted analysis redoes it."""
    with transaction.atomic():
        asset = (
            Asset.objects.select_for_update(of=("self",))
            .select_related("track")
            .filter(pk=asset_id, status__in=[AssetStatus.UPLOADED, AssetStatus.ANALYSING])
            .first()
        )
        if asset is None:
            return None
        if asset.status == AssetStatus.UPLOADED:
            asset.status = AssetStatus.ANALYSING
            asset.save(update_fields=["status", "updated_at"])
            _publish_status(asset, previous=AssetStatus.UPLOADED)

    try:
        with asset.file.open("rb") as stored:
            handle = cast(BinaryIO, stored)
            if asset.kind == AssetKind.ARTWORK:
                analysis = analyse_artwork(handle, max_pixels=settings.ARTWORK_MAX_PIXELS).as_dict()
            else:
                analysis = analyse_audio(handle, content_type=asset.content_type).as_dict()
        outcome, error = AssetStatus.READY, ""
    except UnreadableMedia as exc:
        analysis, outcome, error = {}, AssetStatus.UNREADABLE, exc.message

    with transaction.atomic():
        updated = Asset.objects.filter(pk=asset.pk, status=AssetStatus.ANALYSING).update(
            status=outcome, analysis=analysis, error=error, updated_at=timezone.now()
        )
        if not updated:
            return None  # another run finished first
        asset.status, asset.analysis, asset.error = outcome, analysis, error
        if outcome == AssetStatus.READY and asset.kind == AssetKind.AUDIO and asset.track_id:
            Track.objects.filter(pk=asset.track_id).update(
                duration_seconds=round(analysis["duration_seconds"]), updated_at=timezone.now()
            )
        _publish_status(asset, previous=AssetStatus.ANALYSING)
    return asset
