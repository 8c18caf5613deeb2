"""What the DDEX ERN 4.3 builder needs to know, as plain frozen dataclasses.

A selector fills these from the catalog; the builder turns them into XML. Keeping this layer free
of the ORM (and of Django) means the builder is a pure function that tests can drive without a
database, and that a message can be rebuilt from a snapshot exactly as it was sent.

Enum values deliberately equal the catalog's choice values (`distribution.choices`), so a selector
converts with `ReleaseType(release.release_type)`; each enum also knows its DDEX allowed value
(`.ddex`), checked against allowed-value-sets.xsd by the tests rather than trusted from memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

WORLDWIDE = "Worldwide"


class MessageKind(StrEnum):
    """Why the message is sent. ERN 4.3 has no field for it: `builder` explains each."""

    INSERT = "insert"
    UPDATE = "update"
    TAKEDOWN = "takedown"

    @property
    def manifest_action(self) -> str:
        """The avs:MessageActionType for a batch manifest (the choreography, not the ERN XSD)."""
        return {"insert": "NewReleaseDelivery", "update": "ReDelivery", "takedown": "TakeDown"}[
            self.value
        ]


class MessageControlType(StrEnum):
    LIVE = "LiveMessage"
    TEST = "TestMessage"


class ReleaseType(StrEnum):
    SINGLE = "single"
    EP = "ep"
    ALBUM = "album"
    COMPILATION = "compilation"

    @property
    def ddex(self) -> str:
        # ERN 4 has no "Compilation" ReleaseType: a compilation is an Album flagged with
        # IsMultiArtistCompilation.
        return {"single": "Single", "ep": "EP", "album": "Album", "compilation": "Album"}[
            self.value
        ]


class ParentalWarning(StrEnum):
    EXPLICIT = "explicit"
    NOT_EXPLICIT = "not_explicit"
    EDITED = "edited"
    UNKNOWN = "unknown"

    @property
    def ddex(self) -> str:
        return {
            "explicit": "Explicit",
            "not_explicit": "NotExplicit",
            "edited": "ExplicitContentEdited",
            "unknown": "Unknown",  # NoAdviceAvailable is deprecated in AVS 3 in favour of Unknown
        }[self.value]


class ArtistRole(StrEnum):
    """How an artist is displayed (avs:DisplayArtistRole)."""

    PRIMARY_ARTIST = "primary_artist"
    FEATURED_ARTIST = "featured_artist"

    @property
    def ddex(self) -> str:
        return {"primary_artist": "MainArtist", "featured_artist": "FeaturedArtist"}[self.value]


class ContributorRole(StrEnum):
    """A credit on a recording (avs:ContributorRole); values follow the catalog's roles."""

    PRIMARY_ARTIST = "primary_artist"
    FEATURED_ARTIST = "featured_artist"
    REMIXER = "remixer"
    COMPOSER = "composer"
    LYRICIST = "lyricist"
    PRODUCER = "producer"
    ARRANGER = "arranger"
    CONDUCTOR = "conductor"
    PERFORMER = "performer"
    MIXING_ENGINEER = "mixing_engineer"
    MASTERING_ENGINEER = "mastering_engineer"

    @property
    def ddex(self) -> str:
        return _CONTRIBUTOR_ROLES[self.value]


_CONTRIBUTOR_ROLES = {
    # The ContributorRole set has no Main/FeaturedArtist: both are "Artist", a featured one
    # additionally carries HasMadeFeaturedContribution.
    "primary_artist": "Artist",
    "featured_artist": "Artist",
    "remixer": "Remixer",
    "composer": "Composer",
    "lyricist": "Lyricist",
    # AVS 3 has no plain "Producer"; StudioProducer is the recording producer (sample 5 uses it).
    "producer": "StudioProducer",
    "arranger": "Arranger",
    "conductor": "Conductor",
    "performer": "Performer",
    "mixing_engineer": "MixingEngineer",
    "mastering_engineer": "MasteringEngineer",
}


class AudioFormat(StrEnum):
    """The delivered master. WAV is a container: its codec is PCM (avs:AudioCodecType)."""

    WAV = "wav"
    FLAC = "flac"

    @property
    def container(self) -> str | None:
        # avs:ContainerFormat knows WAV but not FLAC (FLAC is its own codec and container).
        return {"wav": "WAV", "flac": None}[self.value]

    @property
    def codec(self) -> str:
        return {"wav": "PCM", "flac": "FLAC"}[self.value]


class ImageFormat(StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"


class HashAlgorithm(StrEnum):
    """avs:HashSumAlgorithmType values for the digests the catalog computes on upload."""

    MD5 = "MD5"
    SHA256 = "SHA-256"


class CommercialModel(StrEnum):
    SUBSCRIPTION = "SubscriptionModel"
    ADVERTISEMENT_SUPPORTED = "AdvertisementSupportedModel"
    PAY_AS_YOU_GO = "PayAsYouGoModel"
    FREE_OF_CHARGE = "FreeOfChargeModel"


class UseType(StrEnum):
    STREAM = "Stream"
    ON_DEMAND_STREAM = "OnDemandStream"
    NON_INTERACTIVE_STREAM = "NonInteractiveStream"
    PERMANENT_DOWNLOAD = "PermanentDownload"
    CONDITIONAL_DOWNLOAD = "ConditionalDownload"


@dataclass(frozen=True)
class MessagingParty:
    """Sender or recipient of a message, identified by its DDEX Party ID (PADPIDA...)."""

    dpid: str
    name: str


@dataclass(frozen=True)
class MessageHeader:
    message_id: str
    thread_id: str
    sender: MessagingParty
    recipient: MessagingParty
    created_at: datetime  # must be timezone-aware: DDEX wants YYYY-MM-DDThh:mm:ssTZD
    control_type: MessageControlType = MessageControlType.LIVE


@dataclass(frozen=True)
class Party:
    """An artist or other credited party.

    `key` identifies the same person across tracks (the selector passes the artist's id); two
    parties with one key become one PartyList entry. Without a key the name is the identity.
    """

    name: str
    key: str | None = None
    isni: str | None = None

    @property
    def identity(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class DisplayArtist:
    party: Party
    role: ArtistRole = ArtistRole.PRIMARY_ARTIST


@dataclass(frozen=True)
class Contributor:
    party: Party
    role: ContributorRole


@dataclass(frozen=True)
class CopyrightLine:
    """A (P) or (C) line: the year and the text as it should be displayed."""

    year: int | None
    text: str


@dataclass(frozen=True)
class Territories:
    """Where something applies: ISO 3166-1 alpha-2 codes or "Worldwide" (the catalog's "WW" too).

    ERN lets a deal list either included or excluded territories, never both; `exclude` therefore
    means "`include` minus these", and with a Worldwide `include` it becomes ExcludedTerritoryCode.
    """

    include: tuple[str, ...] = (WORLDWIDE,)
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileHash:
    algorithm: HashAlgorithm
    value: str


@dataclass(frozen=True)
class AudioFile:
    """The audio master as delivered. ERN 4.3 allows one HashSum per File, hence one `hash`."""

    file_name: str  # path relative to the release folder in the delivery, written as File/URI
    format: AudioFormat
    bits_per_sample: int
    sample_rate_hz: int
    channels: int
    size_bytes: int
    hash: FileHash | None = None


@dataclass(frozen=True)
class CoverImage:
    file_name: str
    format: ImageFormat
    width: int
    height: int
    size_bytes: int
    hash: FileHash | None = None


@dataclass(frozen=True)
class Track:
    isrc: str
    title: str
    track_number: int
    duration_seconds: float
    audio: AudioFile
    display_artists: tuple[DisplayArtist, ...]
    contributors: tuple[Contributor, ...] = ()
    version: str = ""
    disc_number: int = 1
    parental_warning: ParentalWarning = ParentalWarning.NOT_EXPLICIT
    language: str | None = None  # IETF tag of the performance; "zxx" for instrumentals
    preview_start_seconds: float | None = None
    genre: str | None = None  # defaults to the release's
    p_line: CopyrightLine | None = None  # defaults to the release's
    display_artist_name: str | None = None  # defaults to a name composed from display_artists


@dataclass(frozen=True)
class Release:
    icpn: str  # UPC-A or EAN-13, as the catalog normalised it
    title: str
    release_type: ReleaseType
    label_name: str
    genre: str
    p_line: CopyrightLine
    c_line: CopyrightLine
    release_date: date
    display_artists: tuple[DisplayArtist, ...]
    cover: CoverImage
    tracks: tuple[Track, ...]
    version: str = ""
    subgenre: str | None = None
    original_release_date: date | None = None
    parental_warning: ParentalWarning = ParentalWarning.NOT_EXPLICIT
    territories: Territories = field(default_factory=Territories)
    display_artist_name: str | None = None


@dataclass(frozen=True)
class Deal:
    """One commercial model with its uses, valid from `start_date` (to `end_date`, inclusive).

    Pre-order deals are sent for the main release only (a track cannot be pre-ordered alone).
    `territories` defaults to the release's.
    """

    commercial_model: CommercialModel
    use_types: tuple[UseType, ...]
    start_date: date
    end_date: date | None = None
    territories: Territories | None = None
    pre_order: bool = False


@dataclass(frozen=True)
class NewReleaseMessageInput:
    header: MessageHeader
    release: Release
    kind: MessageKind = MessageKind.INSERT
    deals: tuple[Deal, ...] = ()  # ignored for a takedown, required otherwise
    language: str = "en"  # LanguageAndScriptCode of the message's texts


@dataclass(frozen=True)
class PurgeReleaseMessageInput:
    """Just enough to identify a release a store must purge (its own metadata may be corrupt)."""

    header: MessageHeader
    icpn: str
    title: str
    version: str = ""
    artist_names: tuple[str, ...] = ()
    language: str = "en"


STREAMING_USES = (UseType.ON_DEMAND_STREAM, UseType.NON_INTERACTIVE_STREAM)


def standard_deals(
    release_date: date,
    *,
    territories: Territories | None = None,
    streaming: bool = True,
    download: bool = True,
    pre_order_date: date | None = None,
) -> tuple[Deal, ...]:
    """The deals a distributor usually grants: subscription and ad-supported streaming, paid
    downloads, and optionally a download pre-order that ends the day before the release date
    (validity dates are inclusive in DDEX, so the two deals never overlap).
    """
    deals: list[Deal] = []
    if streaming:
        for model in (CommercialModel.SUBSCRIPTION, CommercialModel.ADVERTISEMENT_SUPPORTED):
            deals.append(Deal(model, STREAMING_USES, release_date, territories=territories))
    if download:
        deals.append(
            Deal(
                CommercialModel.PAY_AS_YOU_GO,
                (UseType.PERMANENT_DOWNLOAD,),
                release_date,
                territories=territories,
            )
        )
    if pre_order_date is not None:
        if pre_order_date >= release_date:
            raise ValueError(
                f"The pre-order date {pre_order_date} must be before the release date "
                f"{release_date}."
            )
        deals.append(
            Deal(
                CommercialModel.PAY_AS_YOU_GO,
                (UseType.PERMANENT_DOWNLOAD,),
                pre_order_date,
                end_date=release_date - timedelta(days=1),
                territories=territories,
                pre_order=True,
            )
        )
    return tuple(deals)
