"""Distribution models, split by subdomain; import from here."""

from distribution.models.assets import Asset, asset_upload_path
from distribution.models.catalog import (
    Artist,
    Label,
    Release,
    ReleaseContributor,
    ReleaseInReview,
    Track,
    TrackContributor,
)
from distribution.models.delivery import (
    ACTIVE_DELIVERY_STATUSES,
    Delivery,
    DeliveryAttempt,
    ReleaseStore,
    Store,
)

__all__ = [
    "ACTIVE_DELIVERY_STATUSES",
    "Artist",
    "Asset",
    "Delivery",
    "DeliveryAttempt",
    "Label",
    "Release",
    "ReleaseContributor",
    "ReleaseInReview",
    "ReleaseStore",
    "Store",
    "Track",
    "TrackContributor",
    "asset_upload_path",
]
