"""Catalog writes. Every write is scoped to one organization; releases and their tracks can
only change while the release is a draft or rejected (checked under a row lock, see
`review.release_lock_for_edit`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError

from accounts.models import Organization, User
from distribution.models import Artist, Label, Release, ReleaseContributor, Track, TrackContributor
from distribution.services.review import release_lock_for_edit
from enterprise_suite.errors import Conflict, ValidationFailed


@dataclass(frozen=True)
class Credit:
    """One contributor line as a service takes it."""

    artist: Artist
    role: str
    sequence: int | None = None


# Unique constraints and the field and message each maps to when violated.
_UNIQUE_ERRORS: dict[str, tuple[str, str]] = {
    "release_upc_unique_per_org": ("upc", "A release with this UPC already exists."),
    "track_isrc_unique_per_org": ("isrc", "A track with this ISRC already exists."),
    "track_position_unique": ("track_number", "This release already has a track at this position."),
    "artist_isni_unique_per_org": ("isni", "An artist with this ISNI already exists."),
    "label_name_unique_per_org": ("name", "A label with this name already exists."),
    "release_contributor_unique": (
        "contributors",
        "The same artist is credited twice in one role.",
    ),
    "track_contributor_unique": ("contributors", "The same artist is credited twice in one role."),
}


def _save(instance: Model) -> None:
    """Save inside a savepoint, turning a unique-constraint violation into a 400 on its field."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        for name, (field, message) in _UNIQUE_ERRORS.items():
            if name in str(exc):
                raise ValidationFailed(message, details={field: [message]}) from None
        raise Conflict("The change conflicts with existing data.", details=str(exc)) from None


def _check_unique(queryset: Any, field: str, message: str) -> None:
    # Checked up front for a clear error on SQLite too; the constraint still guards races.
    if queryset.exists():
        raise ValidationFailed(message, details={field: [message]})


def _check_same_organization(organization: Organization, credits: Iterable[Credit]) -> None:
    foreign = [c for c in credits if c.artist.organization_id != organization.pk]
    if foreign:
        raise ValidationFailed(
            "Contributors must be artists of this organization.",
            details={"contributors": ["Unknown artist."]},
        )
    seen: set[tuple[Any, str]] = set()
    for credit in credits:
        if (credit.artist.pk, credit.role) in seen:
            raise ValidationFailed(
                "The same artist is credited twice in one role.",
                details={
                    "contributors": [f"{credit.artist.name} is listed twice as {credit.role}."]
                },
            )
        seen.add((credit.artist.pk, credit.role))


def _apply(instance: Model, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(instance, name, value)


# --- Labels and artists -----------------------------------------------------------------------


def label_create(
    *, organization: Organization, name: str, p_line: str = "", c_line: str = ""
) -> Label:
    _check_unique(
        Label.objects.filter(organization=organization, name=name),
        "name",
        "A label with this name already exists.",
    )
    label = Label(organization=organization, name=name, p_line=p_line, c_line=c_line)
    _save(label)
    return label


def label_update(*, label: Label, **fields: Any) -> Label:
    if "name" in fields:
        _check_unique(
            Label.objects.filter(
                organization_id=label.organization_id, name=fields["name"]
            ).exclude(pk=label.pk),
            "name",
            "A label with this name already exists.",
        )
    _apply(label, fields)
    _save(label)
    return label


def _delete(instance: Model, what: str) -> None:
    try:
        instance.delete()
    except ProtectedError as exc:
        raise Conflict(
            f"This {what} is still in use by {len(exc.protected_objects)} object(s); "
            "remove those references first."
        ) from None


def label_delete(*, label: Label) -> None:
    _delete(label, "label")


def artist_create(
    *,
    organization: Organization,
    name: str,
    isni: str = "",
    store_ids: dict[str, str] | None = None,
) -> Artist:
    if isni:
        _check_unique(
            Artist.objects.filter(organization=organization, isni=isni),
            "isni",
            "An artist with this ISNI already exists.",
        )
    artist = Artist(organization=organization, name=name, isni=isni, store_ids=store_ids or {})
    _save(artist)
    return artist


def artist_update(*, artist: Artist, **fields: Any) -> Artist:
    if fields.get("isni"):
        _check_unique(
            Artist.objects.filter(
                organization_id=artist.organization_id, isni=fields["isni"]
            ).exclude(pk=artist.pk),
            "isni",
            "An artist with this ISNI already exists.",
        )
    _apply(artist, fields)
    _save(artist)
    return artist


def artist_delete(*, artist: Artist) -> None:
    _delete(artist, "artist")


# --- Releases and tracks ----------------------------------------------------------------------


def _check_release_refs(
    organization: Organization, fields: dict[str, Any], exclude_pk: Any = None
) -> None:
    label = fields.get("label")
    if label is not None and label.organization_id != organization.pk:
        raise ValidationFailed("Unknown label.", details={"label": ["Unknown label."]})
    if fields.get("upc"):
        _check_unique(
            Release.objects.filter(organization=organization, upc=fields["upc"]).exclude(
                pk=exclude_pk
            ),
            "upc",
            "A release with this UPC already exists.",
        )


def _check_dates(release: Release) -> None:
    try:
        release.clean()
    except DjangoValidationError as exc:
        details = exc.message_dict
        raise ValidationFailed(next(iter(details.values()))[0], details=details) from None


def _replace_credits(owner: Release | Track, credits: Sequence[Credit]) -> None:
    if isinstance(owner, Release):
        ReleaseContributor.objects.filter(release=owner).delete()
        ReleaseContributor.objects.bulk_create(
            ReleaseContributor(
                release=owner, artist=c.artist, role=c.role, sequence=c.sequence or n
            )
            for n, c in enumerate(credits, start=1)
        )
    else:
        TrackContributor.objects.filter(track=owner).delete()
        TrackContributor.objects.bulk_create(
            TrackContributor(track=owner, artist=c.artist, role=c.role, sequence=c.sequence or n)
            for n, c in enumerate(credits, start=1)
        )


@transaction.atomic
def release_create(
    *, organization: Organization, contributors: Sequence[Credit] = (), **fields: Any
) -> Release:
    _check_release_refs(organization, fields)
    _check_same_organization(organization, contributors)
    release = Release(organization=organization, **fields)
    _check_dates(release)
    _save(release)
    _replace_credits(release, contributors)
    return release


@transaction.atomic
def release_update(
    *,
    release: Release,
    contributors: Sequence[Credit] | None = None,
    actor: User | None = None,
    **fields: Any,
) -> Release:
    locked = release_lock_for_edit(release=release, actor=actor)
    _check_release_refs(locked.organization, fields, exclude_pk=locked.pk)
    _apply(locked, fields)
    _check_dates(locked)
    _save(locked)
    if contributors is not None:
        _check_same_organization(locked.organization, contributors)
        _replace_credits(locked, contributors)
    return locked


@transaction.atomic
def release_delete(*, release: Release, actor: User | None = None) -> None:
    locked = release_lock_for_edit(release=release, actor=actor)
    locked.delete()


def _check_track_refs(
    release: Release, fields: dict[str, Any], exclude_pk: Any = None, current: Track | None = None
) -> None:
    if "track_number" in fields or "disc_number" in fields:
        disc = fields.get("disc_number", current.disc_number if current else 1)
        number = fields.get("track_number", current.track_number if current else 0)
        _check_unique(
            Track.objects.filter(release=release, disc_number=disc, track_number=number).exclude(
                pk=exclude_pk
            ),
            "track_number",
            "This release already has a track at this position.",
        )
    if fields.get("isrc"):
        _check_unique(
            Track.objects.filter(
                organization_id=release.organization_id, isrc=fields["isrc"]
            ).exclude(pk=exclude_pk),
            "isrc",
            "A track with this ISRC already exists.",
        )


@transaction.atomic
def track_create(
    *,
    release: Release,
    contributors: Sequence[Credit] = (),
    actor: User | None = None,
    **fields: Any,
) -> Track:
    locked = release_lock_for_edit(release=release, actor=actor)
    _check_track_refs(locked, fields)
    _check_same_organization(locked.organization, contributors)
    track = Track(organization_id=locked.organization_id, release=locked, **fields)
    _save(track)
    _replace_credits(track, contributors)
    return track


@transaction.atomic
def track_update(
    *,
    track: Track,
    contributors: Sequence[Credit] | None = None,
    actor: User | None = None,
    **fields: Any,
) -> Track:
    release = release_lock_for_edit(release=track.release, actor=actor)
    _check_track_refs(release, fields, exclude_pk=track.pk, current=track)
    _apply(track, fields)
    _save(track)
    if contributors is not None:
        _check_same_organization(release.organization, contributors)
        _replace_credits(track, contributors)
    return track


@transaction.atomic
def track_delete(*, track: Track, actor: User | None = None) -> None:
    release_lock_for_edit(release=track.release, actor=actor)
    track.delete()
