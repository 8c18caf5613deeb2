"""Distribution writes, split by subdomain; import from here."""

from distribution.services.catalog import (
    Credit,
    artist_create,
    artist_delete,
    artist_update,
    label_create,
    label_delete,
    label_update,
    release_create,
    release_delete,
    release_update,
    track_create,
    track_delete,
    track_update,
)

__all__ = [
    "Credit",
    "artist_create",
    "artist_delete",
    "artist_update",
    "label_create",
    "label_delete",
    "label_update",
    "release_create",
    "release_delete",
    "release_update",
    "track_create",
    "track_delete",
    "track_update",
]
