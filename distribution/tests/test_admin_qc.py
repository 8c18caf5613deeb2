"""The QC queue in the admin panel: what reviewers see and the actions they take."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from distribution.choices import ReleaseStatus
from distribution.models import Release
from distribution.tests.factories import ReleaseFactory
from distribution.tests.workflow_fixtures import submittable_release
from realtime.models import Event

pytestmark = pytest.mark.django_db

QUEUE = "/admin/distribution/releaseinreview/"


def _staff(client: Client, organization, role: str) -> User:  # type: ignore[no-untyped-def]
    # No Django model permissions: the organization role alone decides what may be reviewed.
    user = User.objects.create_user(f"{role}@qc.test", "pw-123456789", is_staff=True)
    MembershipFactory(organization=organization, user=user, role=role)
    client.force_login(user)
    return user


def _submitted(organization, title: str, days_ago: int) -> Release:  # type: ignore[no-untyped-def]
    release = submittable_release(organization)
    Release.objects.filter(pk=release.pk).update(
        title=title,
        status=ReleaseStatus.SUBMITTED,
        submitted_at=timezone.now() - timezone.timedelta(days=days_ago),
    )
    return Release.objects.get(pk=release.pk)


def test_queue_lists_submitted_oldest_first_with_artwork_and_findings(client: Client) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "qc_reviewer")
    newer = _submitted(organization, "Newer", 1)
    older = _submitted(organization, "Older", 5)
    ReleaseFactory(organization=organization, title="Still a draft")
    body = client.get(QUEUE).content.decode()
    assert body.index("Older") < body.index("Newer")
    assert "Still a draft" not in body
    assert "<img" in body  # artwork thumbnails
    detail = client.get(f"{QUEUE}{older.pk}/change/").content.decode()
    assert "WAV 16 bit 44100 Hz 2 ch" in detail
    assert "No findings." in detail
    Release.objects.filter(pk=newer.pk).update(p_line="")
    newer.label.p_line = ""
    newer.label.save()
    detail = client.get(f"{QUEUE}{newer.pk}/change/").content.decode()
    assert "release.p_line" in detail


def test_approve_and_reject_with_reason_from_the_queue(client: Client) -> None:
    organization = OrganizationFactory()
    reviewer = _staff(client, organization, "qc_reviewer")
    good = _submitted(organization, "Good", 2)
    bad = _submitted(organization, "Bad", 3)
    response = client.post(
        QUEUE, {"action": "approve_selected", "_selected_action": [good.pk]}, follow=True
    )
    assert "Approved: Good" in response.content.decode()
    form = client.post(QUEUE, {"action": "reject_selected", "_selected_action": [bad.pk]})
    assert "Reason shown to the label" in form.content.decode()
    bad.refresh_from_db()
    assert bad.status == ReleaseStatus.SUBMITTED  # nothing happens without a reason
    client.post(
        QUEUE,
        {
            "action": "reject_selected",
            "_selected_action": [bad.pk],
            "confirm": "yes",
            "reason": "Blurry cover",
        },
        follow=True,
    )
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == ReleaseStatus.APPROVED
    assert (bad.status, bad.review_note) == (ReleaseStatus.REJECTED, "Blurry cover")
    events = Event.objects.filter(type="release.status_changed").order_by("id")
    assert [(e.data["to"], e.actor_id) for e in events] == [
        ("approved", reviewer.pk),
        ("rejected", reviewer.pk),
    ]


def test_manager_cannot_approve_from_the_queue(client: Client) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "manager")
    release = _submitted(organization, "Pending", 1)
    page = client.get(QUEUE).content.decode()
    assert "Pending" in page
    assert "approve_selected" not in page  # the action is not offered to the role
    response = client.post(
        QUEUE, {"action": "approve_selected", "_selected_action": [release.pk]}, follow=True
    )
    assert response.status_code == 200  # the changelist again, nothing run
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUBMITTED
    assert not Event.objects.exists()


def test_release_admin_page_shows_findings(client: Client) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "manager")
    release = ReleaseFactory(organization=organization)
    body = client.get(f"/admin/distribution/release/{release.pk}/change/").content.decode()
    assert "artwork.present" in body
    assert "release.has_tracks" in body
