"""Turn a catalog release into the DDEX builder's input, and list the files to ship with it.

The builder (`distribution.ddex`) never touches the ORM; this selector is the bridge. It reads
the release in five queries whatever its size, checks everything the message needs and returns
a complete `DdexPackage` or raises `DdexInputError` listing every problem: never a half-built
message. Resources are named from the UPC and the disc/track position ("<UPC>_01_003.wav",
"<UPC>.jpg"): deterministic, unique within the release, free of user input, and referred to by
exactly these names (relative to the release's folder in the delivery) in the XML.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from distribution.choices import AssetKind, AssetStatus
from distribution.ddex import model as ddex
from distribution.ddex.common import deal_territories
from distribution.models import Asset, Release, ReleaseContributor, Track, TrackContributor
from enterprise_suite.errors import ApplicationError, NotFound

__all__ = ["GENRE_FALLBACK", "DdexInputError", "DdexPackage", "ResourceFile", "ddex_package"]

# The schema requires a Genre on the release and on every TrackRelease; the catalog's
# primary_genre is optional, so a release without one is sent with this text.
GENRE_FALLBACK = "Unknown"

_Types = dict[str, tuple[str, str]]  # content type -> (file extension, DDEX format)
_AUDIO_TYPES: _Types = {"audio/wav": ("wav", "wav"), "audio/flac": ("flac", "flac")}
_IMAGE_TYPES: _Types = {"image/jpeg": ("jpg", "JPEG"), "image/png": ("png", "PNG")}
_DISPLAY_ROLES = {ddex.ArtistRole.PRIMARY_ARTIST.value, ddex.ArtistRole.FEATURED_ARTIST.value}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_UPC = re.compile(r"\d{12,13}")
# A leading year, optionally after the (P)/(C) symbol: "2026 Nightfall", "\u2117 2026 Nightfall".
_LEADING_YEAR = re.compile(r"\s*(?:[\u2117\u00a9]|\([PpCc]\))?\s*(\d{4})(?!\d)")
# ern:ddex_LanguageAndScriptCodeWithRestriction, as in release-notification.xsd.
_LANGUAGE = re.compile(
    r"[a-zA-Z]{2,3}(-[a-zA-Z]+)?(-[a-zA-Z]{2}|-[0-9]{3})?(-[a-zA-Z][a-zA-Z0-9]{4}[a-zA-Z0-9]*)?"
)

_RELEASE_FIELDS = (
    "id", "title", "version", "release_type", "upc", "primary_genre", "language",
    "parental_warning", "release_date", "original_release_date", "preorder_date",
    "p_line", "c_line",
    "territories_include", "territories_exclude",
    "label__name", "label__p_line", "label__c_line", "organization__name",
)  # fmt: skip
_TRACK_FIELDS = (
    "id", "disc_number", "track_number", "title", "version", "isrc", "duration_seconds",
    "parental_warning", "language", "preview_start_seconds",
)  # fmt: skip
_ASSET_FIELDS = (
    "id", "kind", "track_id", "status", "file", "content_type", "size_bytes", "md5", "sha256",
    "analysis",
)  # fmt: skip
_CREDIT_ORDER = ("sequence", "role", "artist__name")
_CREDIT_FIELDS = ("artist_id", "artist__name", "artist__isni", "role")

Row = dict[str, Any]


class DdexInputError(ApplicationError):
    """The release lacks something the DDEX message needs; `details["problems"]` lists each."""

    status_code = 400
    code = "release_not_deliverable"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        message = " ".join(["The release cannot be delivered:", *(p["message"] for p in problems)])
        super().__init__(message, details={"problems": problems})


@dataclass(frozen=True)
class ResourceFile:
    """A file to ship with the message, named as the XML references it."""

    asset_id: uuid.UUID
    storage_name: str  # Asset.file.name in Django storage
    target_name: str  # e.g. "<UPC>_01_001.wav", "<UPC>.jpg": only [A-Za-z0-9_.-]
    size_bytes: int
    md5: str
    sha256: str


@dataclass(frozen=True)
class DdexPackage:
    message: ddex.NewReleaseMessageInput
    resources: list[ResourceFile]  # the tracks' audio in disc/track order, then the cover


@dataclass(frozen=True)
class _Credit:
    artist_id: uuid.UUID
    name: str
    isni: str
    role: str

    @property
    def party(self) -> ddex.Party:
        return ddex.Party(name=self.name, key=str(self.artist_id), isni=self.isni or None)


class _Problems(list[dict[str, str]]):
    def add(self, field: str, message: str) -> None:
        self.append({"field": field, "message": message})


def ddex_package(
    *,
    release_id: uuid.UUID | str,
    recipient: ddex.MessagingParty,
    sender: ddex.MessagingParty,
    kind: ddex.MessageKind | str,
    message_id: str,
    thread_id: str,
    created_at: datetime,
    test_message: bool = False,
    hash_algorithm: ddex.HashAlgorithm | str = "MD5",
) -> DdexPackage:
    """The builder's input for one release and the files to deliver with it.

    `kind` is "insert", "update" or "takedown" (a takedown carries no deals). `hash_algorithm`
    ("MD5" or "SHA-256") picks the digest written as each file's HashSum. Callers scope the
    release to an organization beforehand; an unknown id raises NotFound, a release missing
    what the message needs raises DdexInputError.
    """
    message_kind = ddex.MessageKind(kind)
    algorithm = ddex.HashAlgorithm(hash_algorithm)
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware: DDEX date-times carry a time zone.")
    row, release_credits, tracks, track_credits, assets = _load(release_id)
    takedown = message_kind == ddex.MessageKind.TAKEDOWN
    mapper = _Mapper(row, algorithm, _display(release_credits))
    problems = mapper.problems

    release_date: date | None = row["release_date"]
    if release_date is None:
        problems.add("release_date", "The release has no release date.")
    lines: dict[str, ddex.CopyrightLine] = {}
    for field, symbol in (("p_line", "(P)"), ("c_line", "(C)")):
        text = row[field] or row[f"label__{field}"] or ""
        if not text:
            problems.add(field, f"The release has no {symbol} line, and neither has its label.")
        lines[field] = ddex.CopyrightLine(_year(text, release_date), text)
    territories = ddex.Territories(
        include=tuple(row["territories_include"] or ()),
        exclude=tuple(row["territories_exclude"] or ()),
    )
    try:  # a takedown carries no deals, so it needs no territory
        offered = takedown or bool(territories.include and deal_territories(territories)[1])
    except ValueError:  # every included territory is excluded too
        offered = False
    if not offered:
        problems.add("territories_include", "The release is not offered in any territory.")
    if not tracks:
        problems.add("tracks", "The release has no tracks.")
    built = [mapper.track(t, track_credits.get(t["id"], []), assets.get(t["id"])) for t in tracks]
    cover = mapper.cover(assets.get(None))

    if problems:
        raise DdexInputError(list(problems))
    assert cover is not None  # every missing piece was a problem
    assert release_date is not None
    resources = [resource for _, resource in filter(None, built)] + [cover[1]]
    assert all(_SAFE_NAME.fullmatch(r.target_name) for r in resources)  # the UPC is digits
    release = ddex.Release(
        icpn=row["upc"],
        title=row["title"],
        version=row["version"],
        release_type=ddex.ReleaseType(row["release_type"]),
        label_name=row["label__name"] or row["organization__name"],
        genre=row["primary_genre"] or GENRE_FALLBACK,
        p_line=lines["p_line"],
        c_line=lines["c_line"],
        release_date=release_date,
        original_release_date=row["original_release_date"],
        parental_warning=ddex.ParentalWarning(row["parental_warning"]),
        territories=territories,
        display_artists=mapper.display_artists,
        cover=cover[0],
        tracks=tuple(track for track, _ in filter(None, built)),
    )
    control = ddex.MessageControlType.TEST if test_message else ddex.MessageControlType.LIVE
    header = ddex.MessageHeader(message_id, thread_id, sender, recipient, created_at, control)
    deals = (
        () if takedown else ddex.standard_deals(release_date, pre_order_date=row["preorder_date"])
    )
    message = ddex.NewReleaseMessageInput(header, release, kind=message_kind, deals=deals)
    return DdexPackage(message=message, resources=resources)


def _load(
    release_id: uuid.UUID | str,
) -> tuple[Row, list[_Credit], list[Row], dict[uuid.UUID, list[_Credit]], dict[Any, Row]]:
    """Five queries: release (+label, organization), its credits, tracks, their credits, assets.

    Current assets are keyed by their track's id, the release's artwork by None.
    """
    try:
        row = Release.objects.filter(pk=release_id).values(*_RELEASE_FIELDS).get()
    except (Release.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound("No such release.") from None
    pk = row["id"]
    release_credits = [
        _Credit(*values)
        for values in ReleaseContributor.objects.filter(release_id=pk)
        .order_by(*_CREDIT_ORDER)
        .values_list(*_CREDIT_FIELDS)
    ]
    tracks = list(
        Track.objects.filter(release_id=pk)
        .order_by("disc_number", "track_number")
        .values(*_TRACK_FIELDS)
    )
    # Filtering through the join keeps the count fixed even for a release without tracks.
    track_credits: dict[uuid.UUID, list[_Credit]] = defaultdict(list)
    for track_id, *values in (
        TrackContributor.objects.filter(track__release_id=pk)
        .order_by(*_CREDIT_ORDER)
        .values_list("track_id", *_CREDIT_FIELDS)
    ):
        track_credits[track_id].append(_Credit(*values))
    assets = {
        asset["track_id"]: asset
        for asset in Asset.objects.filter(
            Q(kind=AssetKind.ARTWORK, release_id=pk)
            | Q(kind=AssetKind.AUDIO, track__release_id=pk),
            superseded_at__isnull=True,
        ).values(*_ASSET_FIELDS)
    }
    return row, release_credits, tracks, track_credits, assets


def _year(text: str, release_date: date | None) -> int | None:
    if match := _LEADING_YEAR.match(text):
        return int(match.group(1))
    return release_date.year if release_date else None


def _display(credits: list[_Credit]) -> tuple[ddex.DisplayArtist, ...]:
    """Primary and featured artists, in credit order."""
    return tuple(
        ddex.DisplayArtist(c.party, ddex.ArtistRole(c.role))
        for c in credits
        if c.role in _DISPLAY_ROLES
    )


class _Mapper:
    """Maps the loaded rows, collecting every problem instead of stopping at the first."""

    def __init__(
        self, release: Row, algorithm: ddex.HashAlgorithm, artists: tuple[ddex.DisplayArtist, ...]
    ) -> None:
        self.release, self.algorithm, self.display_artists = release, algorithm, artists
        self.problems = _Problems()
        self.upc: str = release["upc"]
        if not self.upc:
            self.problems.add("upc", "The release has no UPC.")
        elif not _UPC.fullmatch(self.upc):
            self.problems.add("upc", f'The UPC "{self.upc}" is not 12 or 13 digits.')
        self.primaries = tuple(a for a in artists if a.role == ddex.ArtistRole.PRIMARY_ARTIST)
        if not self.primaries:
            self.problems.add("contributors", "The release has no primary artist.")

    def track(
        self, track: Row, credits: list[_Credit], asset: Row | None
    ) -> tuple[ddex.Track, ResourceFile] | None:
        position = f"{track['disc_number']}-{track['track_number']:02d}"
        what, field = f'Track {position} "{track["title"]}"', f"tracks.{position}"
        if not track["isrc"]:
            self.problems.add(f"{field}.isrc", f"{what} has no ISRC.")
        language = track["language"] or self.release["language"] or None
        if language and not _LANGUAGE.fullmatch(language):
            self.problems.add(f"{field}.language", f'{what} has an invalid language "{language}".')
        keys = ("sample_rate", "bit_depth", "channels")
        kind = self._usable(asset, f"{what}'s audio", f"{field}.audio", keys, _AUDIO_TYPES)
        if asset is None or kind is None:
            return None
        analysis, audio_format = asset["analysis"], ddex.AudioFormat(kind[1])
        if (codec := analysis.get("codec", audio_format.codec)) != audio_format.codec:
            self.problems.add(f"{field}.audio", f"{what}'s audio is {codec}, not PCM WAV/FLAC.")
        duration = track["duration_seconds"] or analysis.get("duration_seconds")
        if not duration:
            self.problems.add(f"{field}.duration", f"{what} has no duration.")
        if self.problems:
            return None  # the message will not be built: only keep collecting problems
        target = f"{self.upc}_{track['disc_number']:02d}_{track['track_number']:03d}.{kind[0]}"
        resource, file_hash = self._resource(asset, target)
        display = _display(credits)
        if not any(a.role == ddex.ArtistRole.PRIMARY_ARTIST for a in display):
            display = self.primaries + display  # uncredited: by the release's primary artists
        audio = ddex.AudioFile(
            file_name=target,
            format=audio_format,
            bits_per_sample=int(analysis["bit_depth"]),
            sample_rate_hz=int(analysis["sample_rate"]),
            channels=int(analysis["channels"]),
            size_bytes=asset["size_bytes"],
            hash=file_hash,
        )
        built = ddex.Track(
            isrc=track["isrc"],
            title=track["title"],
            version=track["version"],
            track_number=track["track_number"],
            disc_number=track["disc_number"],
            duration_seconds=float(duration),
            audio=audio,
            display_artists=display,
            contributors=tuple(
                ddex.Contributor(c.party, ddex.ContributorRole(c.role))
                for c in credits
                if c.role != ddex.ArtistRole.PRIMARY_ARTIST  # those are display artists
            ),
            parental_warning=ddex.ParentalWarning(track["parental_warning"]),
            language=language,
            preview_start_seconds=track["preview_start_seconds"],
        )
        return built, resource

    def cover(self, asset: Row | None) -> tuple[ddex.CoverImage, ResourceFile] | None:
        what, keys = "The release's artwork", ("width", "height")
        kind = self._usable(asset, what, "artwork", keys, _IMAGE_TYPES)
        if asset is None or kind is None or self.problems:
            return None
        resource, file_hash = self._resource(asset, f"{self.upc}.{kind[0]}")
        cover = ddex.CoverImage(
            file_name=resource.target_name,
            format=ddex.ImageFormat(kind[1]),
            width=int(asset["analysis"]["width"]),
            height=int(asset["analysis"]["height"]),
            size_bytes=asset["size_bytes"],
            hash=file_hash,
        )
        return cover, resource

    def _usable(
        self, asset: Row | None, what: str, field: str, keys: tuple[str, ...], types: _Types
    ) -> tuple[str, str] | None:
        """(file extension, DDEX format) of a current, ready, analysed asset; else a problem."""
        if asset is None:
            self.problems.add(field, f"{what} has no current file.")
        elif asset["status"] != AssetStatus.READY:
            self.problems.add(field, f"{what} is not ready (status: {asset['status']}).")
        elif asset["content_type"] not in types:
            self.problems.add(field, f"{what} is {asset['content_type']}, not deliverable.")
        elif missing := [key for key in keys if not (asset["analysis"] or {}).get(key)]:
            self.problems.add(field, f"{what}: the analysis lacks {', '.join(missing)}.")
        else:
            return types[asset["content_type"]]
        return None

    def _resource(self, asset: Row, target: str) -> tuple[ResourceFile, ddex.FileHash]:
        digest = asset["md5"] if self.algorithm == ddex.HashAlgorithm.MD5 else asset["sha256"]
        fields = (asset["id"], asset["file"], target, asset["size_bytes"], asset["md5"])
        return ResourceFile(*fields, asset["sha256"]), ddex.FileHash(self.algorithm, digest)
