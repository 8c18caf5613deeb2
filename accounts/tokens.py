"""API token format: `es_<prefix>_<secret>`; only a SHA-256 of the whole token is stored.

The secret carries 256 bits of randomness, so a fast hash is enough: there is nothing to
brute-force, unlike a password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "es"  # noqa: S105  a public marker, not a secret


@dataclass(frozen=True)
class GeneratedToken:
    raw: str
    prefix: str
    secret_hash: str


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def generate_token() -> GeneratedToken:
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return GeneratedToken(raw=raw, prefix=prefix, secret_hash=hash_token(raw))


def parse_prefix(raw: str) -> str | None:
    """The lookup prefix of a presented token, or None when it is not of our format."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]
