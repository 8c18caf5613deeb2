"""Uploaded files: cover artwork and audio masters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization
from distribution.choices import AssetKind, AssetStatus
from distribution.models.catalog import Release, Track
from enterprise_suite.models import BaseModel


def asset_upload_path(asset: Asset, filename: str) -> str:
    # Content-addressed under the organization: re-uploads of the same bytes never collide
    # with another release's file, and names never carry user input.
    extension = {"image/jpeg": "jpg", "image/png": "png", "audio/wav": "wav", "audio/flac": "flac"}
    return (
        f"assets/{asset.organization_id}/{asset.kind}/{asset.sha256[:2]}/"
        f"{asset.pk}.{extension.get(asset.content_type, 'bin')}"
    )


class Asset(BaseModel):
    """An uploaded file: a release's cover artwork or a track's audio master.

    Size, SHA-256 and MD5 are computed while the upload streams in; the analysis (dimensions,
    sample rate, ...) is filled by a background task. A new upload supersedes the previous one
    of the same release or track, which is kept for the audit trail.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=10, choices=AssetKind.choices)
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="assets"
    )
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.CASCADE, related_name="assets"
    )
    file = models.FileField(upload_to=asset_upload_path, max_length=300)
    original_filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=50)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)
    md5 = models.CharField("MD5", max_length=32)
    status = models.CharField(
        max_length=12, choices=AssetStatus.choices, default=AssetStatus.UPLOADED, db_index=True
    )
    analysis = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="Why the file could not be read.")
    superseded_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=AssetKind.ARTWORK, release__isnull=False, track__isnull=True)
                    | Q(kind=AssetKind.AUDIO, track__isnull=False, release__isnull=True)
                ),
                name="asset_owner_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["release"],
                condition=Q(superseded_at__isnull=True, kind=AssetKind.ARTWORK),
                name="one_current_artwork_per_release",
            ),
            models.UniqueConstraint(
                fields=["track"],
                condition=Q(superseded_at__isnull=True, kind=AssetKind.AUDIO),
                name="one_current_audio_per_track",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssetStatus.values), name="asset_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_filename or self.pk} ({self.status})"
