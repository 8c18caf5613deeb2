"""Release validation: the rules a store enforces, run on an immutable snapshot of a release.

snapshot = release_snapshot(release_id=release.pk)
findings = validate_release(snapshot, today=..., lead_days=..., ...)
blocking = [f for f in findings if f.severity == Severity.ERROR]
"""

from distribution.validation.rules import (
    RULES,
    Finding,
    Rule,
    Severity,
    ValidationContext,
    validate_release,
)
from distribution.validation.snapshot import (
    AssetSnapshot,
    CreditSnapshot,
    ReleaseSnapshot,
    TrackSnapshot,
    release_snapshot,
)

__all__ = [
    "RULES",
    "AssetSnapshot",
    "CreditSnapshot",
    "Finding",
    "ReleaseSnapshot",
    "Rule",
    "Severity",
    "TrackSnapshot",
    "ValidationContext",
    "release_snapshot",
    "validate_release",
]
