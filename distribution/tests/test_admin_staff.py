"""The admin panel as staff use it, server side: roles decide what each one sees and may do;
the release page's deliveries and actions; bulk actions report what they did and refused;
the live monitor's page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from distribution.choices import DeliveryKind, DeliveryStatus, ReleaseStatus, TransportKind
from distribution.models import Delivery, DeliveryAttempt, Release, Store
from distribution.tests.factories import ReleaseFactory
from distribution.tests.workflow_fixtures import submittable_release
from realtime.events import publish
from realtime.models import Event

pytestmark = pytest.mark.django_db

QUEUE = "/admin/distribution/releaseinreview/"
RELEASES = "/admin/distribution/release/"
STORES = "/admin/distribution/store/"
MONITOR = "/admin/distribution/delivery/monitor/"


def _staff(client: Client, organization: Organization, role: str) -> User:
    """A staff user with a role and no Django model permissions: the role alone decides."""
    user = User.objects.create_user(f"{role}-{organization.slug}@staff.test", "pw-12345678")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    user.refresh_from_db()
    MembershipFactory(organization=organization, user=user, role=role)
    client.force_login(user)
    return user


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _submitted(organization: Organization, title: str) -> Release:
    release = submittable_release(organization)
    Release.objects.filter(pk=release.pk).update(
        title=title, status=ReleaseStatus.SUBMITTED, submitted_at=timezone.now()
    )
    return Release.objects.get(pk=release.pk)


@pytest.fixture
def stores() -> list[Store]:
    return [
        Store.objects.create(
            code=code, name=name, dpid="PADPIDA0000000009X", transport=TransportKind.FILESYSTEM
        )
        for code, name in (("wave-one", "Wave One"), ("wave-two", "Wave Two"))
    ]


def _delivered(organization: Organization, stores: list[Store], title: str) -> Release:
    """A release delivered to both stores: one acknowledged, one failed after two attempts."""
    release = ReleaseFactory(organization=organization, title=title, status=ReleaseStatus.DELIVERED)
    accepted = Delivery.objects.create(
        organization=organization,
        release=release,
        store=stores[0],
        kind=DeliveryKind.INSERT,
        status=DeliveryStatus.ACKNOWLEDGED,
        message_id=f"ES-{release.pk}-1",
        store_message="Ingested; live Friday.",
        attempt_count=1,
    )
    failed = Delivery.objects.create(
        organization=organization,
        release=release,
        store=stores[1],
        kind=DeliveryKind.INSERT,
        status=DeliveryStatus.FAILED,
        message_id=f"ES-{release.pk}-2",
        last_error="Connection refused",
        attempt_count=2,
    )
    DeliveryAttempt.objects.create(delivery=accepted, outcome="delivered")
    DeliveryAttempt.objects.create(delivery=failed, outcome="failed", error="Timed out")
    DeliveryAttempt.objects.create(delivery=failed, outcome="failed", error="Connection refused")
    return release


# --- roles --------------------------------------------------------------------------------


def test_viewer_sees_everything_but_can_do_nothing(client: Client, stores: list[Store]) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "viewer")
    waiting = _submitted(organization, "Waiting Room")
    delivered = _delivered(organization, stores, "Out There")

    queue = client.get(QUEUE).content.decode()
    assert "Waiting Room" in queue
    assert "approve_selected" not in queue and "reject_selected" not in queue
    detail = client.get(f"{QUEUE}{waiting.pk}/change/").content.decode()
    assert "No findings." in detail and "es-approve" not in detail
    page = client.get(f"{RELEASES}{delivered.pk}/change/").content.decode()
    assert "Ingested; live Friday." in page
    assert "es-redeliver" not in page and "es-takedown" not in page
    assert "redeliver_selected" not in client.get(RELEASES).content.decode()
    assert "retry_selected" not in client.get("/admin/distribution/delivery/").content.decode()

    # Forged requests change nothing either.
    client.post(QUEUE, {"action": "approve_selected", "_selected_action": [waiting.pk]})
    response = client.post(f"{RELEASES}{delivered.pk}/redeliver/", follow=True)
    assert any("may not send" in m for m in _messages(response))
    assert client.post(f"{RELEASES}{delivered.pk}/change/", {"title": "Renamed"}).status_code == 403
    waiting.refresh_from_db()
    delivered.refresh_from_db()
    assert waiting.status == ReleaseStatus.SUBMITTED
    assert delivered.title == "Out There"
    assert Delivery.objects.filter(release=delivered).count() == 2
    assert not Event.objects.exists()


def test_qc_reviewer_reviews_but_cannot_manage_stores_or_members(
    client: Client, stores: list[Store]
) -> None:
    organization = OrganizationFactory()
    reviewer = _staff(client, organization, "qc_reviewer")
    release = _submitted(organization, "Pending")
    assert "approve_selected" in client.get(QUEUE).content.decode()
    detail = client.get(f"{QUEUE}{release.pk}/change/").content.decode()
    assert 'id="es-approve"' in detail

    # The detail page's Approve button posts the queue's own action.
    response = client.post(
        QUEUE, {"action": "approve_selected", "_selected_action": [release.pk]}, follow=True
    )
    assert "Approved: Pending." in _messages(response)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.APPROVED

    store = stores[0]
    assert client.get(f"{STORES}add/").status_code == 403
    changed = client.post(f"{STORES}{store.pk}/change/", {"name": "Hijacked"})
    assert changed.status_code == 403
    store.refresh_from_db()
    assert store.name == "Wave One"
    assert client.get(f"{STORES}{store.pk}/change/").status_code == 200  # may look
    membership = Membership.objects.get(user=reviewer)
    page = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {"user": reviewer.pk, "organization": organization.pk, "role": "owner"},
    )
    assert page.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "qc_reviewer"


def test_staff_see_only_their_own_organizations(client: Client, stores: list[Store]) -> None:
    mine, theirs = OrganizationFactory(), OrganizationFactory(name="Rival Records")
    _staff(client, mine, "owner")
    _submitted(mine, "Ours")
    other = _submitted(theirs, "Theirs")
    other_delivered = _delivered(theirs, stores, "Their Delivered")
    queue = client.get(QUEUE).content.decode()
    assert "Ours" in queue and "Theirs" not in queue
    assert theirs.name not in queue  # not even in the filters
    assert theirs.name not in client.get("/admin/distribution/delivery/").content.decode()
    assert "Their Delivered" not in client.get(RELEASES).content.decode()
    assert client.get(f"{RELEASES}{other.pk}/change/").status_code == 302  # "does not exist"
    assert client.get(f"{QUEUE}{other.pk}/artwork/").status_code == 404
    assert client.get(f"{RELEASES}{other_delivered.pk}/preview/wave-one/").status_code == 404
    response = client.post(f"{RELEASES}{other_delivered.pk}/redeliver/")
    assert response.status_code == 404
    assert Delivery.objects.filter(release=other_delivered).count() == 2
    delivery = Delivery.objects.filter(release=other_delivered).first()
    assert delivery is not None
    assert client.get(f"{MONITOR}row/{delivery.pk}/").status_code == 404
    # Asking the monitor for another organization shows one's own instead.
    monitor = client.get(MONITOR, {"organization": str(theirs.pk)}).content.decode()
    assert "Their Delivered" not in monitor and f'data-organization="{mine.pk}"' in monitor


def test_anonymous_and_non_staff_get_nothing(client: Client) -> None:
    organization = OrganizationFactory()
    release = _submitted(organization, "Pending")
    assert client.get(f"{QUEUE}{release.pk}/artwork/").status_code == 302  # to the login page
    user = User.objects.create_user("member@staff.test", "pw-12345678")
    MembershipFactory(organization=organization, user=user, role="owner")
    client.force_login(user)
    assert client.get(QUEUE).status_code == 302
    assert client.get(MONITOR).status_code == 302


# --- the release page ---------------------------------------------------------------------


def test_release_page_shows_deliveries_per_store(client: Client, stores: list[Store]) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "manager")
    release = _delivered(organization, stores, "Out There")
    page = client.get(f"{RELEASES}{release.pk}/change/").content.decode()
    assert '<span class="es-badge es-badge-acknowledged">acknowledged</span>' in page
    assert '<span class="es-badge es-badge-failed">failed</span>' in page
    assert "Ingested; live Friday." in page  # the store's acknowledgement
    assert "Connection refused" in page and "Timed out" not in page  # the last attempt's error
    assert 'id="es-redeliver"' in page and 'id="es-takedown"' in page
    assert f"{RELEASES}{release.pk}/preview/wave-one/" in page


def test_redeliver_and_take_down_go_through_the_services(
    client: Client, stores: list[Store]
) -> None:
    organization = OrganizationFactory()
    manager = _staff(client, organization, "manager")
    release = _delivered(organization, stores, "Out There")

    response = client.post(f"{RELEASES}{release.pk}/redeliver/", follow=True)
    assert "Redelivering: Out There (Wave One, Wave Two)." in _messages(response)
    updates = Delivery.objects.filter(release=release, kind=DeliveryKind.UPDATE)
    assert sorted(d.store.code for d in updates) == ["wave-one", "wave-two"]
    assert all(d.status == DeliveryStatus.QUEUED for d in updates)

    response = client.post(f"{RELEASES}{release.pk}/takedown/", follow=True)
    assert "Taking down: Out There (Wave One, Wave Two)." in _messages(response)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.TAKEDOWN_REQUESTED
    takedowns = Delivery.objects.filter(release=release, kind=DeliveryKind.TAKEDOWN)
    assert takedowns.count() == 2
    changes = Event.objects.filter(type="release.status_changed", release_id=release.pk)
    assert changes.last() is not None and changes.last().data["to"] == "takedown_requested"

    # Taking down twice is refused by the service, with its reason, and changes nothing.
    events = Event.objects.count()
    response = client.post(f"{RELEASES}{release.pk}/takedown/", follow=True)
    assert any(
        m.startswith("Not taking down: Out There: Cannot take down a release that is")
        for m in _messages(response)
    )
    assert Delivery.objects.filter(release=release, kind=DeliveryKind.TAKEDOWN).count() == 2
    assert Event.objects.count() == events
    assert client.get(f"{RELEASES}{release.pk}/redeliver/").status_code == 405  # POST only
    # The release's move to takedown_requested is recorded as the signed-in manager's.
    requested = Event.objects.filter(
        release_id=release.pk, type="release.status_changed", data__to="takedown_requested"
    )
    assert list(requested.values_list("actor_id", flat=True)) == [manager.pk]


def test_bulk_redeliver_reports_what_it_did_and_refused(
    client: Client, stores: list[Store]
) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "manager")
    delivered = _delivered(organization, stores, "Out There")
    draft = ReleaseFactory(organization=organization, title="Still Draft")
    response = client.post(
        RELEASES,
        {"action": "redeliver_selected", "_selected_action": [delivered.pk, draft.pk]},
        follow=True,
    )
    found = _messages(response)
    assert "Redelivering: Out There (Wave One, Wave Two)." in found
    assert "Not redelivering: Still Draft: Cannot redeliver a release that is draft." in found
    assert not Delivery.objects.filter(release=draft).exists()


def test_preview_shows_the_ern_a_store_would_receive(
    client: Client, stores: list[Store], ddex_schema_dir: Path
) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "viewer")  # reading is enough
    release = submittable_release(organization)
    page = client.get(f"{RELEASES}{release.pk}/preview/wave-one/").content.decode()
    assert "NewReleaseMessage" in page and "PADPIDA0000000009X" in page
    assert "Valid against the ERN 4.3 schema." in page
    assert not Delivery.objects.exists()  # nothing is sent
    assert client.get(f"{RELEASES}{release.pk}/preview/no-such-store/").status_code == 404


# --- bulk retry per store -----------------------------------------------------------------


def test_retry_failed_deliveries_for_a_store(client: Client, stores: list[Store]) -> None:
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    _staff(client, mine, "manager")
    _delivered(mine, stores, "Ours")
    _delivered(theirs, stores, "Theirs")
    response = client.post(
        STORES,
        {"action": "retry_failed_deliveries", "_selected_action": [stores[1].pk, stores[0].pk]},
        follow=True,
    )
    found = _messages(response)
    assert "Wave Two: retrying 1 failed delivery." in found
    assert "Wave Two: not retried: 1 in organizations where your role may not send" in found
    assert "Wave One: retrying 0 failed deliveries." in found
    ours = Delivery.objects.get(release__title="Ours", store=stores[1])
    theirs_failed = Delivery.objects.get(release__title="Theirs", store=stores[1])
    assert (ours.status, ours.attempt_count) == (DeliveryStatus.QUEUED, 0)
    assert theirs_failed.status == DeliveryStatus.FAILED
    assert Delivery.objects.get(release__title="Ours", store=stores[0]).status == "acknowledged"


def test_store_retry_is_not_offered_to_reviewers(client: Client, stores: list[Store]) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "qc_reviewer")
    _delivered(organization, stores, "Ours")
    assert "retry_failed_deliveries" not in client.get(STORES).content.decode()
    client.post(STORES, {"action": "retry_failed_deliveries", "_selected_action": [stores[1].pk]})
    assert Delivery.objects.get(store=stores[1]).status == DeliveryStatus.FAILED


# --- the monitor page ---------------------------------------------------------------------


def test_monitor_lists_deliveries_with_their_last_event(
    client: Client, stores: list[Store]
) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "viewer")
    release = _delivered(organization, stores, "Out There")
    failed = Delivery.objects.get(release=release, store=stores[1])
    event = publish(
        organization_id=organization.pk,
        type="delivery.status_changed",
        subject_type="delivery",
        subject_id=failed.pk,
        release_id=release.pk,
        data={"from": "uploading", "to": "failed", "store": "wave-two", "error": "x"},
    )
    page = client.get(MONITOR).content.decode()
    assert f'data-last-event-id="{event.id}"' in page
    assert f'id="delivery-{failed.pk}"' in page and f'data-event-id="{event.id}"' in page
    assert "delivery_monitor.js" in page
    row = client.get(f"{MONITOR}row/{failed.pk}/").content.decode()
    assert row.startswith(f'<tr id="delivery-{failed.pk}"') and 'data-status="failed"' in row
    assert "Connection refused" in row
    assert 'id="es-monitor-link"' in client.get("/admin/distribution/delivery/").content.decode()


def _track_form(track: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "organization": str(track.organization_id),
        "release": str(track.release_id),
        "disc_number": track.disc_number,
        "track_number": track.track_number,
        "title": track.title,
        "version": track.version,
        "isrc": track.isrc,
        "duration_seconds": track.duration_seconds or "",
        "parental_warning": track.parental_warning,
        "language": track.language or "",
        "contributors-TOTAL_FORMS": "0",
        "contributors-INITIAL_FORMS": "0",
        "contributors-MIN_NUM_FORMS": "0",
        "contributors-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def test_foreign_keys_only_accept_the_users_own_organizations(client: Client) -> None:
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    _staff(client, mine, "manager")
    track = submittable_release(mine).tracks.first()
    foreign_release = submittable_release(theirs)
    response = client.post(
        f"/admin/distribution/track/{track.pk}/change/",
        _track_form(track, release=str(foreign_release.pk)),
    )
    assert response.status_code == 200  # the form again, with the error
    assert "release" in response.context["adminform"].form.errors
    track.refresh_from_db()
    assert track.release.organization_id == mine.pk


def test_submitted_releases_and_their_tracks_are_read_only(client: Client) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "manager")
    release = _submitted(organization, "Frozen")
    track = release.tracks.first()
    response = client.post(
        f"/admin/distribution/track/{track.pk}/change/", _track_form(track, title="Changed")
    )
    assert response.status_code == 403
    track.refresh_from_db()
    assert track.title != "Changed"
    page = client.get(f"{RELEASES}{release.pk}/change/").content.decode()
    assert 'name="title"' not in page  # shown, not editable
    # A draft again (rejected, then edited over the API): editable here too.
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.DRAFT)
    response = client.post(
        f"/admin/distribution/track/{track.pk}/change/", _track_form(track, title="Changed")
    )
    assert response.status_code == 302
    track.refresh_from_db()
    assert track.title == "Changed"


class _FormFields(HTMLParser):
    """The fields a change page's form would send, as a browser would send them unedited."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("name")
        if tag == "input" and name and found.get("type") not in ("submit", "button", "file"):
            if found.get("type") == "checkbox":
                if "checked" in found:
                    self.data[name] = "on"
            else:
                self.data[name] = found.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in found:
            self.data[self._select] = found.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data.strip("\n")


def _page_form(client: Client, url: str, **changes: Any) -> dict[str, Any]:
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    return {**parser.data, **changes}


def test_editing_a_rejected_release_in_the_admin_reopens_it_as_a_draft(client: Client) -> None:
    """As over the API: the edit is saved and the release is a draft again, with its event."""
    organization = OrganizationFactory()
    user = _staff(client, organization, "manager")
    release = submittable_release(organization)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.REJECTED)
    page = f"{RELEASES}{release.pk}/change/"

    response = client.post(page, _page_form(client, page, title="Northern Lights (fixed)"))

    assert response.status_code == 302, response.content.decode()[:2000]
    release.refresh_from_db()
    assert (release.title, release.status) == ("Northern Lights (fixed)", ReleaseStatus.DRAFT)
    event = Event.objects.get(type="release.status_changed", subject_id=release.pk)
    assert event.data == {"from": "rejected", "to": "draft", "reason": "edited after rejection"}
    assert event.actor_id == user.pk
    assert release.tracks.count() == 2  # the inlines saved unchanged


def test_a_preorder_on_or_after_the_release_date_is_a_form_error(client: Client) -> None:
    organization = OrganizationFactory()
    _staff(client, organization, "manager")
    release = submittable_release(organization)
    page = f"{RELEASES}{release.pk}/change/"
    day = release.release_date.isoformat()

    response = client.post(page, _page_form(client, page, preorder_date=day, title="Changed"))

    assert response.status_code == 200
    assert "Pre-orders must open before the release date." in response.content.decode()
    release.refresh_from_db()
    assert (release.title, release.preorder_date) == ("Northern Lights", None)
    assert not Event.objects.filter(type="release.status_changed").exists()


def test_release_page_shows_each_deliverys_last_attempts_error(
    client: Client, stores: list[Store]
) -> None:
    """The last attempt's error (read with the delivery, not every attempt), else the
    delivery's own, such as a store's rejection."""
    organization = OrganizationFactory()
    _staff(client, organization, "viewer")
    release = ReleaseFactory(organization=organization, status=ReleaseStatus.DELIVERED)
    retried, rejected = (
        Delivery.objects.create(
            organization=organization, release=release, store=store, kind=DeliveryKind.INSERT,
            status=DeliveryStatus.FAILED, message_id=f"ES-{release.pk}-{n}",
            last_error="Rejected by the store: bad artwork", attempt_count=3,
        )
        for n, store in enumerate(stores)
    )  # fmt: skip
    Delivery.objects.filter(pk=retried.pk).update(last_error="Gave up after 3 attempts")
    for error in ("first timeout", "second timeout", "third: connection reset"):
        DeliveryAttempt.objects.create(delivery=retried, outcome="failed", error=error)
    DeliveryAttempt.objects.create(delivery=rejected, outcome="delivered", error="")

    page = client.get(f"{RELEASES}{release.pk}/change/").content.decode()
    monitor = client.get(f"{MONITOR}?organization={organization.pk}").content.decode()

    for shown in (page, monitor):
        assert "third: connection reset" in shown
        assert "first timeout" not in shown and "second timeout" not in shown
        assert "Gave up after 3 attempts" not in shown  # the last attempt's error wins
        assert "Rejected by the store: bad artwork" in shown  # no attempt error: its own
