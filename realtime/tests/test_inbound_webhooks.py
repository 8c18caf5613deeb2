"""Webhooks in: stores post signed acknowledgements to `/api/v1/inbound/{store}/`; verified by
HMAC and timestamp, stored once per store message id, applied to the delivery by a task."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import OrganizationFactory
from distribution.choices import DeliveryKind, DeliveryStatus, ReleaseStatus, TransportKind
from distribution.models import Delivery, Store
from distribution.tests.factories import ReleaseFactory
from realtime.inbound import signature_for
from realtime.models import InboundWebhook

pytestmark = pytest.mark.django_db
SECRET = "whsec-test-alpha"
MESSAGE_ID = "ES-MSG-0001"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("STORE_ALPHA_MUSIC_WEBHOOK_SECRET", SECRET)
    return Store.objects.create(
        code="alpha-music",
        name="Alpha Music",
        dpid="PADPIDA0000000001X",
        transport=TransportKind.FILESYSTEM,
    )


@pytest.fixture
def delivery(store: Store) -> Delivery:
    organization = OrganizationFactory()
    release = ReleaseFactory(organization=organization, status=ReleaseStatus.DELIVERED)
    return Delivery.objects.create(
        organization=organization,
        release=release,
        store=store,
        kind=DeliveryKind.INSERT,
        status=DeliveryStatus.DELIVERED,
        message_id=MESSAGE_ID,
    )


def _body(**overrides: Any) -> bytes:
    payload = {
        "message_id": "store-evt-1",
        "acknowledges": MESSAGE_ID,
        "status": "accepted",
        "text": "Ingested.",
        **overrides,
    }
    return json.dumps(payload).encode()


def _post(
    body: bytes,
    *,
    store_code: str = "alpha-music",
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    sent = (
        headers
        if headers is not None
        else {
            "X-Store-Timestamp": stamp,
            "X-Store-Signature": signature
            or signature_for(secret=secret, timestamp=stamp, body=body),
        }
    )
    return APIClient().post(
        f"/api/v1/inbound/{store_code}/", body, content_type="application/json", headers=sent
    )


def _snapshot(delivery: Delivery) -> tuple[Any, ...]:
    delivery.refresh_from_db()
    return (
        delivery.status,
        delivery.store_message,
        delivery.last_error,
        delivery.acknowledged_at,
        delivery.updated_at,
    )


def test_signed_acceptance_acknowledges_the_delivery(
    delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_body())
    assert response.status_code == 202, response.content
    assert response.json() == {"received": True, "message_id": "store-evt-1", "duplicate": False}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.ACKNOWLEDGED
    assert delivery.store_message == "Ingested."
    assert delivery.acknowledged_at is not None
    inbound = InboundWebhook.objects.get()
    assert inbound.store_id == delivery.store_id
    assert inbound.acknowledges == MESSAGE_ID
    assert inbound.processed_at is not None
    assert inbound.error == ""


def test_signed_rejection_rejects_the_delivery_with_the_text(
    delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    body = _body(status="rejected", text="Artwork too small.")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(body)
    assert response.status_code == 202, response.content
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.REJECTED
    assert delivery.store_message == "Artwork too small."
    assert delivery.last_error == "Artwork too small."


def test_a_repeat_answers_202_duplicate_and_changes_nothing(
    delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(_body()).status_code == 202
    before = _snapshot(delivery)
    inbound_before = InboundWebhook.objects.values().get()

    # Same store message id, even with a different verdict: stored once, applied once.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(_body(status="rejected", text="Changed my mind."))
    assert response.status_code == 202, response.content
    assert response.json() == {"received": True, "message_id": "store-evt-1", "duplicate": True}
    assert callbacks == []
    assert InboundWebhook.objects.count() == 1
    assert InboundWebhook.objects.values().get() == inbound_before
    assert _snapshot(delivery) == before


def test_unknown_acknowledged_message_id_is_recorded_on_the_inbound_row(
    delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    before = _snapshot(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_body(acknowledges="ES-MSG-NOPE"))
    assert response.status_code == 202, response.content
    inbound = InboundWebhook.objects.get()
    assert inbound.processed_at is not None
    assert inbound.error == "unknown message id"
    assert _snapshot(delivery) == before


def test_another_stores_delivery_cannot_be_acknowledged(
    delivery: Delivery, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setenv("STORE_BETA_WEBHOOK_SECRET", "beta-secret")
    Store.objects.create(
        code="beta", name="Beta", dpid="PADPIDA0000000002X", transport=TransportKind.FILESYSTEM
    )
    before = _snapshot(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_body(), store_code="beta", secret="beta-secret")
    assert response.status_code == 202
    assert InboundWebhook.objects.get().error == "unknown message id"
    assert _snapshot(delivery) == before


def _assert_refused(response: Any, status_code: int, code: str, delivery: Delivery) -> None:
    assert response.status_code == status_code, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    assert InboundWebhook.objects.count() == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.store_message == ""
    assert delivery.acknowledged_at is None


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"secret": "not-the-secret"}, id="wrong-secret"),
        pytest.param({"signature": "sha256=" + "0" * 64}, id="wrong-digest"),
        pytest.param({"signature": "garbage"}, id="malformed-signature"),
        pytest.param({"signature": "sha256=ünicode"}, id="non-ascii-signature"),
        # Past the 300 s tolerance by more than the request takes: at 301, a request that
        # crossed a second boundary on a slow machine arrived 300 s early, and was accepted.
        pytest.param({"skew": -320}, id="stale-timestamp"),
        pytest.param({"skew": 320}, id="future-timestamp"),
        pytest.param({"headers": {}}, id="no-headers"),
        pytest.param({"headers": {"X-Store-Timestamp": "123"}}, id="no-signature"),
        pytest.param(
            {"headers": {"X-Store-Timestamp": "soon", "X-Store-Signature": "sha256=00"}},
            id="non-numeric-timestamp",
        ),
    ],
)
def test_unverified_requests_answer_401(
    delivery: Delivery, django_capture_on_commit_callbacks: Any, kwargs: dict[str, Any]
) -> None:
    if "skew" in kwargs:
        kwargs = {"timestamp": int(time.time()) + kwargs["skew"]}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(_body(), **kwargs)
    _assert_refused(response, 401, "authentication_failed", delivery)
    assert callbacks == []


def test_a_tampered_body_answers_401(delivery: Delivery) -> None:
    stamp = str(int(time.time()))
    signature = signature_for(secret=SECRET, timestamp=stamp, body=_body())
    response = _post(
        _body(status="rejected"),
        headers={"X-Store-Timestamp": stamp, "X-Store-Signature": signature},
    )
    _assert_refused(response, 401, "authentication_failed", delivery)


def test_signature_is_over_timestamp_and_body(delivery: Delivery) -> None:
    """A signature replayed with a fresh timestamp no longer matches."""
    old = str(int(time.time()) - 10)
    signature = signature_for(secret=SECRET, timestamp=old, body=_body())
    response = _post(_body(), signature=signature)  # sent with the current timestamp
    _assert_refused(response, 401, "authentication_failed", delivery)


def test_tolerance_window_follows_the_setting(
    delivery: Delivery, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.INBOUND_WEBHOOK_TOLERANCE_SECONDS = 30
    response = _post(_body(), timestamp=int(time.time()) - 60)
    _assert_refused(response, 401, "authentication_failed", delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(_body(), timestamp=int(time.time()) - 20).status_code == 202


def test_unknown_store_answers_404(delivery: Delivery) -> None:
    response = _post(_body(), store_code="nowhere")
    _assert_refused(response, 404, "not_found", delivery)


def test_store_without_a_secret_answers_404(
    delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORE_ALPHA_MUSIC_WEBHOOK_SECRET")
    response = _post(_body())
    _assert_refused(response, 404, "not_found", delivery)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(b"{not json", None, id="not-json"),
        pytest.param(b"\xff\xfe\x00garbage", None, id="not-utf8"),
        pytest.param(b"", None, id="empty"),
        pytest.param(b"[1, 2]", None, id="not-an-object"),
        pytest.param(
            json.dumps({"acknowledges": MESSAGE_ID, "status": "accepted"}).encode(),
            "message_id",
            id="no-message-id",
        ),
        pytest.param(
            json.dumps({"message_id": "e1", "status": "accepted"}).encode(),
            "acknowledges",
            id="no-acknowledges",
        ),
        pytest.param(
            json.dumps({"message_id": "e1", "acknowledges": MESSAGE_ID}).encode(),
            "status",
            id="no-status",
        ),
        pytest.param(_body(status="maybe"), "status", id="bad-status"),
        pytest.param(_body(message_id=""), "message_id", id="blank-message-id"),
    ],
)
def test_malformed_bodies_answer_400(delivery: Delivery, body: bytes, field: str | None) -> None:
    response = _post(body)  # correctly signed: the body itself is the problem
    _assert_refused(response, 400, "validation_error", delivery)
    if field:
        assert field in response.json()["error"]["details"]


def test_no_api_token_is_needed_and_one_is_ignored(
    delivery: Delivery, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Signed requests need no token; a valid token does not stand in for a signature."""
    response = owner.client.post(
        "/api/v1/inbound/alpha-music/", _body(), content_type="application/json"
    )
    _assert_refused(response, 401, "authentication_failed", delivery)
