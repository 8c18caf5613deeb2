"""Catalog: labels, artists, releases, tracks and their contributors."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.models import Organization
from distribution.choices import (
    ContributorRole,
    ParentalWarning,
    ReleaseStatus,
    ReleaseType,
)
from distribution.identifiers import (
    validate_isni,
    validate_isrc,
    validate_territories,
    validate_upc,
)
from enterprise_suite.models import BaseModel


class Label(BaseModel):
    """A label or imprint a release is published under, with default (P) and (C) lines."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=200)
    p_line = models.CharField("(P) line", max_length=300, blank=True)
    c_line = models.CharField("(C) line", max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="label_name_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Artist(BaseModel):
    """A performer or creator; store_ids maps a store code to that store's artist id."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="artists")
    name = models.CharField(max_length=200, db_index=True)
    isni = models.CharField("ISNI", max_length=16, blank=True, validators=[validate_isni])
    store_ids = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "isni"],
                condition=~Q(isni=""),
                name="artist_isni_unique_per_org",
            )
        ]

    def __str__(self) -> str:
        return self.name


PREORDER_AFTER_RELEASE = "Pre-orders must open before the release date."


class Release(BaseModel):
    """A product sent to stores (single, EP, album, compilation), identified by its UPC/EAN."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="releases"
    )
    title = models.CharField(max_length=300)
    version = models.CharField(max_length=200, blank=True, help_text="e.g. 'Deluxe Edition'.")
    release_type = models.CharField(
        max_length=20, choices=ReleaseType.choices, default=ReleaseType.SINGLE
    )
    status = models.CharField(
        max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT, db_index=True
    )
    upc = models.CharField("UPC/EAN", max_length=13, blank=True, validators=[validate_upc])
    label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.PROTECT, related_name="releases"
    )
    primary_genre = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, blank=True, help_text="ISO 639-1, e.g. 'en'.")
    parental_warning = models.CharField(
        max_length=20, choices=ParentalWarning.choices, default=ParentalWarning.NOT_EXPLICIT
    )
    release_date = models.DateField(null=True, blank=True, db_index=True)
    original_release_date = models.DateField(null=True, blank=True)
    preorder_date = models.DateField(
        null=True, blank=True, help_text="Download pre-orders open on this date (before release)."
    )
    p_line = models.CharField("(P) line", max_length=300, blank=True)
    c_line = models.CharField("(C) line", max_length=300, blank=True)
    territories_include = models.JSONField(
        default=list, blank=True, validators=[validate_territories]
    )
    territories_exclude = models.JSONField(
        default=list, blank=True, validators=[validate_territories]
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(
        blank=True, help_text="The reviewer's reason, shown to the label."
    )
    went_live_at = models.DateTimeField(
        null=True, blank=True, help_text="When its release date arrived with deliveries done."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "upc"],
                condition=~Q(upc=""),
                name="release_upc_unique_per_org",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReleaseStatus.values), name="release_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})" if self.version else self.title

    def clean(self) -> None:
        """Rules across fields, for the API (`release_update`) and the admin's form alike."""
        super().clean()
        if self.preorder_date and self.release_date and self.preorder_date >= self.release_date:
            raise ValidationError({"preorder_date": PREORDER_AFTER_RELEASE})

    @property
    def is_editable(self) -> bool:
        return self.status == ReleaseStatus.DRAFT


class Track(BaseModel):
    """A sound recording on a release, identified by its ISRC."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tracks")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="tracks")
    disc_number = models.PositiveSmallIntegerField(default=1)
    track_number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    version = models.CharField(max_length=200, blank=True, help_text="e.g. 'Radio Edit'.")
    isrc = models.CharField("ISRC", max_length=12, blank=True, validators=[validate_isrc])
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    parental_warning = models.CharField(
        max_length=20, choices=ParentalWarning.choices, default=ParentalWarning.NOT_EXPLICIT
    )
    language = models.CharField(max_length=8, blank=True)
    preview_start_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["disc_number", "track_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "disc_number", "track_number"], name="track_position_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "isrc"],
                condition=~Q(isrc=""),
                name="track_isrc_unique_per_org",
            ),
            models.CheckConstraint(condition=Q(track_number__gte=1), name="track_number_positive"),
            models.CheckConstraint(condition=Q(disc_number__gte=1), name="disc_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.disc_number}-{self.track_number:02d} {self.title}"


class ReleaseContributor(BaseModel):
    """An artist credited on a release in a role, in display order."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="contributors")
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="release_credits")
    role = models.CharField(max_length=30, choices=ContributorRole.choices)
    sequence = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "artist", "role"], name="release_contributor_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.artist_id} as {self.role}"


class TrackContributor(BaseModel):
    """An artist credited on a track in a role, in display order."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="contributors")
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="track_credits")
    role = models.CharField(max_length=30, choices=ContributorRole.choices)
    sequence = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "artist", "role"], name="track_contributor_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.artist_id} as {self.role}"


class ReleaseInReview(Release):
    """The QC queue: releases waiting for a reviewer (a proxy for its own admin page)."""

    class Meta:
        proxy = True
        verbose_name = "release awaiting QC"
        verbose_name_plural = "QC queue"
