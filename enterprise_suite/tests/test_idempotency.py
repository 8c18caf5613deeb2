"""Idempotency-Key on POST: same key and body replays, different body conflicts."""

from __future__ import annotations

import pytest

from conftest import MakeCaller
from distribution.models import Artist, Release
from enterprise_suite.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def test_same_key_same_body_replays_first_answer(make_caller: MakeCaller) -> None:
    caller = make_caller()
    payload = {"title": "Once", "upc": "036000291452"}
    first = caller.client.post(
        "/api/v1/releases/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = caller.client.post(
        "/api/v1/releases/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Release.objects.count() == 1


def test_same_key_different_body_is_409(make_caller: MakeCaller) -> None:
    caller = make_caller()
    caller.client.post("/api/v1/artists/", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = caller.client.post(
        "/api/v1/artists/", {"name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Artist.objects.values_list("name", flat=True)) == ["A"]


def test_same_key_other_endpoint_is_409(make_caller: MakeCaller) -> None:
    caller = make_caller()
    caller.client.post("/api/v1/artists/", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    response = caller.client.post(
        "/api/v1/labels/", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert response.status_code == 409


def test_keys_are_scoped_per_caller(make_caller: MakeCaller) -> None:
    first = make_caller()
    second = make_caller()
    for caller in (first, second):
        response = caller.client.post(
            "/api/v1/artists/", {"name": "Same"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
        )
        assert response.status_code == 201
    assert Artist.objects.count() == 2


def test_validation_errors_are_replayed_too(make_caller: MakeCaller) -> None:
    caller = make_caller()
    bad = {"title": "X", "upc": "1"}
    first = caller.client.post("/api/v1/releases/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    again = caller.client.post("/api/v1/releases/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert not Release.objects.exists()


def test_key_in_progress_is_409(make_caller: MakeCaller) -> None:
    caller = make_caller()
    import hashlib

    IdempotencyRecord.objects.create(
        organization=caller.organization,
        user=caller.membership.user,
        key="busy",
        request_fingerprint=hashlib.sha256(b"irrelevant").hexdigest(),
    )
    response = caller.client.post(
        "/api/v1/artists/", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert response.status_code == 409
    assert not Artist.objects.exists()


def test_overlong_key_is_400(make_caller: MakeCaller) -> None:
    caller = make_caller()
    response = caller.client.post(
        "/api/v1/artists/", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400
    assert not Artist.objects.exists()


def test_without_key_every_post_creates(make_caller: MakeCaller) -> None:
    caller = make_caller()
    for _ in range(2):
        assert (
            caller.client.post("/api/v1/artists/", {"name": "A"}, format="json").status_code == 201
        )
    assert Artist.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_retried_multipart_upload_replays_despite_a_new_boundary(make_caller: MakeCaller) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from distribution.models import Asset
    from distribution.tests.factories import ReleaseFactory
    from distribution.tests.media_files import make_png

    caller = make_caller()
    release = ReleaseFactory(organization=caller.organization)
    url = f"/api/v1/releases/{release.pk}/artwork/"
    data = make_png(64, 64)
    answers = []
    for boundary in ("AaB03x", "----retry-boundary-0123456789"):
        from django.test.client import encode_multipart

        body = encode_multipart(boundary, {"file": SimpleUploadedFile("c.png", data)})
        answers.append(
            caller.client.generic(
                "POST",
                url,
                body,
                content_type=f"multipart/form-data; boundary={boundary}",
                HTTP_IDEMPOTENCY_KEY="upload-1",
            )
        )
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].json() == answers[0].json()
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Asset.objects.count() == 1
