"""The release status machine: submission, QC review, and the edit that reopens a rejection.

draft -> submitted -> in_review -> approved | rejected;  rejected -> draft (on edit).
Every transition locks the release row, checks the current status, and writes a
`release.status_changed` event (who, from, to, reason) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from distribution.choices import ReleaseStatus
from distribution.models import Release, Track
from enterprise_suite.errors import InvalidTransition, ValidationFailed
from realtime.events import publish

if TYPE_CHECKING:
    from distribution.validation import Finding

EDITABLE = frozenset({ReleaseStatus.DRAFT, ReleaseStatus.REJECTED})
REVIEWABLE = frozenset({ReleaseStatus.SUBMITTED, ReleaseStatus.IN_REVIEW})
MAX_REASON_LENGTH = 2000


def _refuse(release: Release, verb: str, allowed: Iterable[str]) -> InvalidTransition:
    allowed_list = sorted(allowed)
    return InvalidTransition(
        f"Cannot {verb} a release that is {release.status}; "
        f"it must be {' or '.join(allowed_list)}.",
        details={"status": release.status, "allowed_from": allowed_list},
    )


def _move(
    release: Release, to: str, *, actor: User | None, reason: str = "", **fields: Any
) -> Release:
    """Change status on a release locked by the caller and record the event."""
    previous = release.status
    release.status = to
    for name, value in fields.items():
        setattr(release, name, value)
    release.save(update_fields=["status", "updated_at", *fields])
    publish(
        organization_id=release.organization_id,
        type="release.status_changed",
        subject_type="release",
        subject_id=release.pk,
        release_id=release.pk,
        actor_id=actor.pk if actor else None,
        data={"from": previous, "to": to, "reason": reason},
    )
    return release


def release_lock_for_edit(*, release: Release, actor: User | None = None) -> Release:
    """Lock a release about to be edited. Drafts are editable; editing a rejected release
    reopens it as a draft. Anything else is frozen. Call inside a transaction."""
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status not in EDITABLE:
        raise InvalidTransition(
            f"The release is {locked.status}; only draft or rejected releases can be changed.",
            details={"status": locked.status, "allowed_from": sorted(EDITABLE)},
        )
    if locked.status == ReleaseStatus.REJECTED:
        _move(locked, ReleaseStatus.DRAFT, actor=actor, reason="edited after rejection")
    return locked


def release_findings(*, release: Release) -> list[Finding]:
    from distribution.validation import release_snapshot, validate_release

    organization = release.organization
    return validate_release(
        release_snapshot(release_id=release.pk),
        today=timezone.localdate(),
        lead_days=organization.release_lead_days,
        artwork_max_bytes=settings.ARTWORK_MAX_BYTES,
        audio_max_bytes=settings.AUDIO_MAX_BYTES,
        artwork_min_side=settings.ARTWORK_MIN_SIDE,
        isrc_allocation=bool(organization.isrc_prefix),
    )


def _assign_isrcs(organization: Organization, tracks: list[Track]) -> None:
    """Give tracks without an ISRC the next codes of the organization's allocation."""
    if not tracks or not organization.isrc_prefix:
        return
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    year = timezone.localdate().year % 100
    if org.isrc_designation_year != year:
        org.isrc_designation_year, org.isrc_next_designation = year, 1
    for track in tracks:
        if org.isrc_next_designation > 99999:
            raise ValidationFailed(
                "The organization's ISRC allocation for this year is used up.",
                details={"isrc": ["Allocation exhausted; set a new ISRC prefix."]},
            )
        track.isrc = f"{org.isrc_prefix}{year:02d}{org.isrc_next_designation:05d}"
        org.isrc_next_designation += 1
        track.save(update_fields=["isrc", "updated_at"])
    org.save(update_fields=["isrc_next_designation", "isrc_designation_year", "updated_at"])


@transaction.atomic
def release_submit(*, release: Release, actor: User | None) -> tuple[Release, list[Finding]]:
    """Submit a draft for QC. Refused while any error-level finding remains; returns the
    release and the remaining warnings."""
    locked = Release.objects.select_for_update().select_related("organization").get(pk=release.pk)
    if locked.status != ReleaseStatus.DRAFT:
        raise _refuse(locked, "submit", [ReleaseStatus.DRAFT])
    findings = release_findings(release=locked)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise ValidationFailed(
            f"The release has {len(errors)} blocking finding(s); fix them and submit again.",
            details={"findings": [f.as_dict() for f in errors]},
            code="release_invalid",
        )
    _assign_isrcs(locked.organization, list(locked.tracks.filter(isrc="")))
    _move(
        locked,
        ReleaseStatus.SUBMITTED,
        actor=actor,
        submitted_at=timezone.now(),
        review_note="",
        reviewed_at=None,
        reviewed_by=None,
    )
    return locked, findings


@transaction.atomic
def release_start_review(*, release: Release, actor: User) -> Release:
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status != ReleaseStatus.SUBMITTED:
        raise _refuse(locked, "start reviewing", [ReleaseStatus.SUBMITTED])
    return _move(locked, ReleaseStatus.IN_REVIEW, actor=actor, reviewed_by=actor)


@transaction.atomic
def release_approve(*, release: Release, actor: User, note: str = "") -> Release:
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status not in REVIEWABLE:
        raise _refuse(locked, "approve", REVIEWABLE)
    _move(
        locked,
        ReleaseStatus.APPROVED,
        actor=actor,
        reason=note,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
        review_note=note,
    )
    # Approval sends the release to every store chosen for it, in this same transaction.
    from distribution.services.delivery import deliveries_create

    deliveries_create(release=locked, kind="insert")
    locked.refresh_from_db(fields=["status"])
    return locked


@transaction.atomic
def release_reject(*, release: Release, actor: User, reason: str) -> Release:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "A rejection needs a reason the label can act on.",
            details={"reason": ["This field is required."]},
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(
            f"The reason is longer than {MAX_REASON_LENGTH} characters.",
            details={"reason": [f"At most {MAX_REASON_LENGTH} characters."]},
        )
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status not in REVIEWABLE:
        raise _refuse(locked, "reject", REVIEWABLE)
    return _move(
        locked,
        ReleaseStatus.REJECTED,
        actor=actor,
        reason=reason,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
        review_note=reason,
    )
