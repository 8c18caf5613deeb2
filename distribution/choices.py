from django.db import models


class ReleaseType(models.TextChoices):
    SINGLE = "single", "Single"
    EP = "ep", "EP"
    ALBUM = "album", "Album"
    COMPILATION = "compilation", "Compilation"


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DELIVERING = "delivering", "Delivering"
    DELIVERED = "delivered", "Delivered"
    TAKEDOWN_REQUESTED = "takedown_requested", "Takedown requested"
    TAKEN_DOWN = "taken_down", "Taken down"


class ParentalWarning(models.TextChoices):
    """DDEX ParentalWarningType values we accept."""

    EXPLICIT = "explicit", "Explicit"
    NOT_EXPLICIT = "not_explicit", "Not explicit"
    EDITED = "edited", "Explicit content edited"
    UNKNOWN = "unknown", "Unknown"


class ContributorRole(models.TextChoices):
    PRIMARY_ARTIST = "primary_artist", "Primary artist"
    FEATURED_ARTIST = "featured_artist", "Featured artist"
    REMIXER = "remixer", "Remixer"
    COMPOSER = "composer", "Composer"
    LYRICIST = "lyricist", "Lyricist"
    PRODUCER = "producer", "Producer"
    ARRANGER = "arranger", "Arranger"
    CONDUCTOR = "conductor", "Conductor"
    PERFORMER = "performer", "Performer"
    MIXING_ENGINEER = "mixing_engineer", "Mixing engineer"
    MASTERING_ENGINEER = "mastering_engineer", "Mastering engineer"


class AssetKind(models.TextChoices):
    ARTWORK = "artwork", "Artwork"
    AUDIO = "audio", "Audio"


class AssetStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    ANALYSING = "analysing", "Analysing"
    READY = "ready", "Ready"
    UNREADABLE = "unreadable", "Unreadable"


class TransportKind(models.TextChoices):
    FILESYSTEM = "filesystem", "Local folder"
    SFTP = "sftp", "SFTP"
    S3 = "s3", "Amazon S3"


class DeliveryMode(models.TextChoices):
    BATCH = "batch", "Batched"
    RELEASE = "release", "Release by release"


class TakedownMode(models.TextChoices):
    NO_DEALS = "no_deals", "Release without deals"
    PURGE = "purge", "PurgeReleaseMessage"


class DeliveryKind(models.TextChoices):
    INSERT = "insert", "Insert"
    UPDATE = "update", "Update"
    TAKEDOWN = "takedown", "Takedown"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PACKAGING = "packaging", "Packaging"
    UPLOADING = "uploading", "Uploading"
    DELIVERED = "delivered", "Delivered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
