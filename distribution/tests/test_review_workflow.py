"""Submission and QC review: transitions, permissions, audit events and races."""

from __future__ import annotations

import threading

import pytest
from rest_framework.test import APIClient

from conftest import Caller, MakeCaller
from distribution.choices import ReleaseStatus
from distribution.models import Release
from distribution.tests.workflow_fixtures import submittable_release
from realtime.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_caller: MakeCaller) -> Caller:
    return make_caller(role="manager")


@pytest.fixture
def reviewer(make_caller: MakeCaller, manager: Caller) -> Caller:
    return make_caller(organization=manager.organization, role="qc_reviewer")


def _status_events(release: Release) -> list[tuple[str, str, str]]:
    return [
        (e.data["from"], e.data["to"], e.data["reason"])
        for e in Event.objects.filter(release_id=release.pk, type="release.status_changed")
    ]


def test_validate_reports_findings_with_hints(manager: Caller) -> None:
    release = submittable_release(manager.organization)
    report = manager.client.get(f"/api/v1/releases/{release.pk}/validate/").json()
    assert report == {
        "release_id": str(release.pk),
        "submittable": True,
        "error_count": 0,
        "warning_count": 0,
        "findings": [],
    }
    Release.objects.filter(pk=release.pk).update(upc="", p_line="")
    release.label.p_line = ""
    release.label.save()
    report = manager.client.get(f"/api/v1/releases/{release.pk}/validate/").json()
    assert report["submittable"] is False
    rule_ids = {f["rule_id"] for f in report["findings"]}
    assert {"release.upc.present", "release.p_line"} <= rule_ids
    assert all(f["hint"] and f["message"] for f in report["findings"])


def test_submit_with_errors_is_400_listing_them_and_changes_nothing(manager: Caller) -> None:
    release = submittable_release(manager.organization)
    release.assets.update(superseded_at="2026-01-01T00:00:00Z")  # no current artwork
    response = manager.client.post(f"/api/v1/releases/{release.pk}/submit/")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "release_invalid"
    assert "artwork.present" in {f["rule_id"] for f in error["details"]["findings"]}
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DRAFT
    assert not Event.objects.filter(release_id=release.pk).exists()


def test_full_review_cycle_with_audit_events(manager: Caller, reviewer: Caller) -> None:
    release = submittable_release(manager.organization)
    url = f"/api/v1/releases/{release.pk}"
    submitted = manager.client.post(f"{url}/submit/")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"]

    # Frozen while in QC.
    frozen = manager.client.patch(f"{url}/", {"title": "Changed"}, format="json")
    assert frozen.status_code == 409
    assert "submitted" in frozen.json()["error"]["message"]

    assert reviewer.client.post(f"{url}/start-review/").json()["status"] == "in_review"
    no_reason = reviewer.client.post(f"{url}/reject/", {"reason": "  "}, format="json")
    assert no_reason.status_code == 400
    rejected = reviewer.client.post(
        f"{url}/reject/", {"reason": "Artwork shows a URL."}, format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["review_note"] == "Artwork shows a URL."

    # Editing a rejected release reopens it as a draft.
    edited = manager.client.patch(f"{url}/", {"title": "Northern Lights"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["status"] == "draft"
    assert manager.client.post(f"{url}/submit/").status_code == 200
    approved = reviewer.client.post(f"{url}/approve/", {"note": "Looks good"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"

    assert _status_events(release) == [
        ("draft", "submitted", ""),
        ("submitted", "in_review", ""),
        ("in_review", "rejected", "Artwork shows a URL."),
        ("rejected", "draft", "edited after rejection"),
        ("draft", "submitted", ""),
        ("submitted", "approved", "Looks good"),
    ]
    actors = list(
        Event.objects.filter(release_id=release.pk, type="release.status_changed").values_list(
            "actor_id", flat=True
        )
    )
    m, r = manager.membership.user_id, reviewer.membership.user_id
    assert actors == [m, r, r, m, m, r]


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_only_reviewers_approve_or_reject(make_caller: MakeCaller, role: str) -> None:
    owner = make_caller()
    release = submittable_release(owner.organization)
    owner.client.post(f"/api/v1/releases/{release.pk}/submit/")
    member = make_caller(organization=owner.organization, role=role)
    for verb, body in (("approve", {}), ("reject", {"reason": "no"}), ("start-review", {})):
        response = member.client.post(f"/api/v1/releases/{release.pk}/{verb}/", body, format="json")
        assert response.status_code == 403
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUBMITTED


def test_viewer_cannot_submit(make_caller: MakeCaller) -> None:
    owner = make_caller()
    release = submittable_release(owner.organization)
    viewer = make_caller(organization=owner.organization, role="viewer")
    assert viewer.client.post(f"/api/v1/releases/{release.pk}/submit/").status_code == 403


def test_invalid_transitions_name_the_current_status(manager: Caller, reviewer: Caller) -> None:
    release = submittable_release(manager.organization)
    response = reviewer.client.post(f"/api/v1/releases/{release.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"]["status"] == "draft"
    assert "draft" in error["message"]
    manager.client.post(f"/api/v1/releases/{release.pk}/submit/")
    again = manager.client.post(f"/api/v1/releases/{release.pk}/submit/")
    assert again.status_code == 409
    assert again.json()["error"]["details"]["status"] == "submitted"


def test_isrcs_are_assigned_from_the_allocation_at_submission(manager: Caller) -> None:
    organization = manager.organization
    organization.isrc_prefix = "QZDEM"
    organization.save()
    release = submittable_release(organization, tracks=2)
    release.tracks.update(isrc="")
    report = manager.client.get(f"/api/v1/releases/{release.pk}/validate/").json()
    assert report["submittable"] is True
    assert {f["rule_id"] for f in report["findings"]} == {"track.isrc.present"}
    assert manager.client.post(f"/api/v1/releases/{release.pk}/submit/").status_code == 200
    isrcs = sorted(release.tracks.values_list("isrc", flat=True))
    assert len(isrcs) == 2 and all(i.startswith("QZDEM") and len(i) == 12 for i in isrcs)
    assert isrcs[0] != isrcs[1]


@pytest.mark.services  # row locks need PostgreSQL; SQLite serialises the whole database
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_one_wins(make_caller: MakeCaller) -> None:
    owner = make_caller()
    release = submittable_release(owner.organization)
    owner.client.post(f"/api/v1/releases/{release.pk}/submit/")
    reviewers = [make_caller(organization=owner.organization, role="qc_reviewer") for _ in range(2)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def approve(client: APIClient) -> None:
        from django.db import connection

        barrier.wait()
        try:
            statuses.append(
                client.post(
                    f"/api/v1/releases/{release.pk}/approve/", {}, format="json"
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(r.client,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 409]
    release.refresh_from_db()
    assert release.status == ReleaseStatus.APPROVED
    approvals = Event.objects.filter(release_id=release.pk, data__to="approved")
    assert approvals.count() == 1
