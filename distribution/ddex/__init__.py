"""DDEX ERN 4.3: the message model, the builder and the schema validator (no ORM, no settings)."""

from distribution.ddex.builder import build_new_release_message, build_purge_release_message
from distribution.ddex.schema import SchemaNotFound, validate

__all__ = [
    "SchemaNotFound",
    "build_new_release_message",
    "build_purge_release_message",
    "validate",
]
