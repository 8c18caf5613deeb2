"""Webhook endpoints and deliveries in the admin panel: creation shows the secret once, unsafe
URLs are refused, replay goes through the service and reports what it refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from realtime.events import publish
from realtime.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from realtime.webhooks import webhook_secret_generate

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/realtime/webhookendpoint/add/"
DELIVERIES_URL = "/admin/realtime/webhookdelivery/"


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root@example.test", "pw-123456789"))
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_creates_an_endpoint_and_shows_its_secret_once(
    staff_client: Client, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    organization = OrganizationFactory()
    response = staff_client.post(
        ADD_URL,
        {
            "organization": organization.pk,
            "url": "http://127.0.0.1:9/hook",
            "event_types": '["release.status_changed"]',
            "description": "label ERP",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.event_types == ["release.status_changed"]
    shown = [m for m in _messages(response) if endpoint.secret in m]
    assert len(shown) == 1
    # The change page never shows it again.
    page = staff_client.get(f"/admin/realtime/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret not in page.content.decode()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/", "ftp://example.com/x"]
)
def test_admin_refuses_unsafe_urls_and_creates_nothing(
    staff_client: Client, settings: Any, url: str
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = staff_client.post(
        ADD_URL,
        {"organization": OrganizationFactory().pk, "url": url, "event_types": "[]"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["url"]
    assert not WebhookEndpoint.objects.exists()


def test_replay_action_requeues_finished_deliveries_and_reports_refusals(
    staff_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    organization = OrganizationFactory()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url="https://hooks.example.com/x",
        secret=webhook_secret_generate(),
    )
    for n in range(2):
        publish(
            organization_id=organization.pk,
            type="release.updated",
            subject_type="release",
            subject_id=uuid.uuid4(),
            data={"n": n},
        )
    failed, pending = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("created_at")
    WebhookDelivery.objects.filter(pk=failed.pk).update(
        status=WebhookDeliveryStatus.FAILED, attempt_count=8, last_error="HTTP 500"
    )
    # Replayed deliveries are enqueued after commit; the broker is not part of this test.
    with django_capture_on_commit_callbacks(execute=False):
        response = staff_client.post(
            DELIVERIES_URL,
            {"action": "replay_selected", "_selected_action": [failed.pk, pending.pk]},
            follow=True,
        )
    failed.refresh_from_db()
    assert failed.status == WebhookDeliveryStatus.PENDING
    assert failed.attempt_count == 0
    messages = _messages(response)
    assert any(m.startswith("Replaying:") for m in messages)
    assert any("Not replayed" in m and "still pending" in m for m in messages)


def test_admin_delete_keeps_the_delivery_log(staff_client: Client) -> None:
    organization = OrganizationFactory()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url="https://hooks.example.com/x",
        secret=webhook_secret_generate(),
    )
    publish(
        organization_id=organization.pk,
        type="release.updated",
        subject_type="release",
        subject_id=uuid.uuid4(),
    )
    delivery = WebhookDelivery.objects.get()
    response = staff_client.post(
        f"/admin/realtime/webhookendpoint/{endpoint.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None and not endpoint.is_active
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    listing = staff_client.get("/admin/realtime/webhookendpoint/").content.decode()
    assert "hooks.example.com" not in listing
    assert staff_client.get(f"{DELIVERIES_URL}{delivery.pk}/change/").status_code == 200


def _staff_member(client: Client, organization: Any, role: str) -> Client:
    user = User.objects.create_user(f"{role}-{uuid.uuid4().hex[:6]}@example.test", "pw-123456789")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    MembershipFactory(organization=organization, user=user, role=role)
    client.force_login(user)
    return client


def test_staff_see_their_own_organizations_webhooks_by_role(client: Client) -> None:
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    for organization, host in ((mine, "mine.example.com"), (theirs, "theirs.example.com")):
        WebhookEndpoint.objects.create(
            organization=organization, url=f"https://{host}/x", secret=webhook_secret_generate()
        )
        publish(
            organization_id=organization.pk,
            type="release.updated",
            subject_type="release",
            subject_id=uuid.uuid4(),
        )
    own_delivery = WebhookDelivery.objects.get(organization=mine)
    other_delivery = WebhookDelivery.objects.get(organization=theirs)

    from django.utils import timezone

    from realtime.models import WebhookAttempt

    WebhookAttempt.objects.create(
        delivery=own_delivery,
        started_at=timezone.now(),
        succeeded=False,
        status_code=502,
        error="HTTP 502",
    )
    viewer = _staff_member(client, mine, "viewer")
    assert viewer.get("/admin/realtime/webhookendpoint/").status_code == 403
    listing = viewer.get(DELIVERIES_URL).content.decode()
    assert str(own_delivery.event) in listing and "theirs.example.com" not in listing
    assert theirs.name not in listing  # not even in the organization filter
    assert "replay_selected" not in listing  # the action is not offered to a viewer
    page = viewer.get(f"{DELIVERIES_URL}{own_delivery.pk}/change/").content.decode()
    assert "HTTP 502" in page  # the attempts are shown to every member
    assert viewer.get(f"{DELIVERIES_URL}{other_delivery.pk}/change/").status_code == 302
    WebhookDelivery.objects.filter(pk=own_delivery.pk).update(status=WebhookDeliveryStatus.FAILED)
    viewer.post(
        DELIVERIES_URL, {"action": "replay_selected", "_selected_action": [own_delivery.pk]}
    )
    own_delivery.refresh_from_db()
    assert own_delivery.status == WebhookDeliveryStatus.FAILED  # a viewer may not replay

    owner = _staff_member(Client(), mine, "owner")
    endpoints = owner.get("/admin/realtime/webhookendpoint/").content.decode()
    assert "mine.example.com" in endpoints and "theirs.example.com" not in endpoints


def test_re_enabling_an_endpoint_in_the_admin_resets_its_failure_count(
    client: Client, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # no DNS here: the URL check is skipped
    organization = OrganizationFactory()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url="https://hooks.example.com/x",
        secret=webhook_secret_generate(),
        is_active=False,
        consecutive_failures=20,
        disabled_reason="20 deliveries in a row failed.",
    )
    owner = _staff_member(client, organization, "owner")
    response = owner.post(
        f"/admin/realtime/webhookendpoint/{endpoint.pk}/change/",
        {
            "organization": organization.pk,
            "url": endpoint.url,
            "event_types": "[]",
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.consecutive_failures == 0 and endpoint.disabled_reason == ""
    # The delivery log cannot be deleted, even by an owner.
    publish(
        organization_id=organization.pk,
        type="release.updated",
        subject_type="release",
        subject_id=uuid.uuid4(),
    )
    delivery = WebhookDelivery.objects.get()
    assert owner.get(f"{DELIVERIES_URL}{delivery.pk}/delete/").status_code == 403
