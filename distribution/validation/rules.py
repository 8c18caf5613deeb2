"""The release validation rules a store enforces, as a registry of pure checks.

Each rule has a stable dotted id (clients and QC staff key on it), a default severity, the field
it concerns, a message and a fix hint; its check yields `Finding`s that restate the message with
the actual value. "error" findings block submission, "warning" ones do not. The checks live in
`checks_release.py` (release, track and title rules) and `checks_assets.py` (artwork and audio);
importing this module registers them all, in the order findings are reported.

Field paths follow the release payload: `title`, `upc`, `contributors`, `artwork.format`,
`tracks[2].isrc`, `tracks[2].audio.sample_rate`, where the track index is 0-based in disc/track
order (the order of the `tracks` list in the release payload). `Rule.field` gives the pattern
(`tracks[].isrc`); a finding gives the concrete path.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from distribution.validation.snapshot import ReleaseSnapshot, TrackSnapshot


class Severity(StrEnum):
    ERROR = "error"  # blocks submission
    WARNING = "warning"  # reported, does not block


@dataclass(frozen=True)
class Finding:
    """One problem found on a release, a track or an asset."""

    rule_id: str
    severity: Severity
    field: str
    message: str
    hint: str
    subject_type: str  # "release" | "track" | "asset"
    subject_id: uuid.UUID

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "subject_type": self.subject_type,
            "subject_id": str(self.subject_id),
        }


@dataclass(frozen=True)
class ValidationContext:
    """The organization's settings a run is judged against, and the tracks in disc/track order."""

    today: datetime.date
    lead_days: int
    artwork_max_bytes: int
    audio_max_bytes: int
    artwork_min_side: int
    isrc_allocation: bool
    tracks: tuple[TrackSnapshot, ...] = ()


Check = Callable[["Rule", ReleaseSnapshot, ValidationContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule's documentation (for API docs and the admin) and its check."""

    id: str
    severity: Severity
    field: str
    message: str
    hint: str
    check: Check = dataclasses.field(repr=False, compare=False)

    def finding(
        self,
        *,
        field: str,
        message: str,
        subject_type: str,
        subject_id: uuid.UUID,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            self.id,
            severity or self.severity,
            field,
            message,
            hint or self.hint,
            subject_type,
            subject_id,
        )


_REGISTRY: list[Rule] = []


def rule(
    rule_id: str, *, severity: Severity, field: str, message: str, hint: str
) -> Callable[[Check], Check]:
    """Register a check under a stable id; registration order is the order findings come in."""

    def register(check: Check) -> Check:
        if any(r.id == rule_id for r in _REGISTRY):
            raise ValueError(f"Duplicate validation rule id {rule_id!r}.")
        _REGISTRY.append(Rule(rule_id, severity, field, message, hint, check))
        return check

    return register


# The checks register themselves on import; they need the names above, hence the late import.
from distribution.validation import checks_release, checks_assets  # noqa: E402, F401, I001

RULES: tuple[Rule, ...] = tuple(_REGISTRY)
"""Every rule, in report order: the documentation of what validation checks."""


def validate_release(
    snapshot: ReleaseSnapshot,
    *,
    today: datetime.date,
    lead_days: int,
    artwork_max_bytes: int,
    audio_max_bytes: int,
    artwork_min_side: int,
    isrc_allocation: bool,
) -> list[Finding]:
    """Every finding on the release, release-level first, then each track in disc/track order.

    Within a subject findings follow rule registration order, so the result is deterministic.
    """
    tracks = tuple(sorted(snapshot.tracks, key=lambda t: (t.disc_number, t.track_number)))
    ctx = ValidationContext(
        today=today,
        lead_days=lead_days,
        artwork_max_bytes=artwork_max_bytes,
        audio_max_bytes=audio_max_bytes,
        artwork_min_side=artwork_min_side,
        isrc_allocation=isrc_allocation,
        tracks=tracks,
    )
    # A track's findings and its audio's findings sort under the track's position.
    position: dict[uuid.UUID, int] = {}
    for index, track in enumerate(tracks):
        position[track.id] = index
        if track.audio is not None:
            position[track.audio.id] = index
    keyed: list[tuple[tuple[int, int, int], Finding]] = []
    for rule_index, registered in enumerate(RULES):
        for seq, finding in enumerate(registered.check(registered, snapshot, ctx)):
            keyed.append(((position.get(finding.subject_id, -1), rule_index, seq), finding))
    keyed.sort(key=lambda pair: pair[0])
    return [finding for _, finding in keyed]
