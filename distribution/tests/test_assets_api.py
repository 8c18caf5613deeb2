"""Artwork and audio uploads: streamed, hashed, sniffed, stored and analysed.

Bad input gets a clear error and leaves neither a row nor a file behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import Caller, MakeCaller
from distribution.choices import ReleaseStatus
from distribution.models import Asset, Release, Track
from distribution.tests.factories import ReleaseFactory, TrackFactory
from distribution.tests.media_files import make_jpeg, make_png, make_wav, truncate
from realtime.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_caller: MakeCaller) -> Caller:
    return make_caller(role="manager")


@pytest.fixture
def release(manager: Caller) -> Release:
    return ReleaseFactory(organization=manager.organization)


@pytest.fixture
def track(release: Release) -> Track:
    return TrackFactory(release=release, duration_seconds=None)


def _stored_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _put(
    caller: Caller, url: str, data: bytes, content_type: str, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        return caller.client.generic("PUT", url, data, content_type=content_type)


def test_raw_jpeg_upload_is_hashed_stored_and_analysed(
    manager: Caller,
    release: Release,
    settings,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    data = make_jpeg(3000, 3000, dpi=(300, 300))
    url = f"/api/v1/releases/{release.pk}/artwork/"
    response = _put(manager, url, data, "image/jpeg", django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["size_bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324  stores ask for MD5
    asset = Asset.objects.get(pk=body["id"])
    assert asset.status == "ready"
    assert asset.analysis["width"] == asset.analysis["height"] == 3000
    assert asset.analysis["format"] == "JPEG"
    assert asset.analysis["color_mode"] == "RGB"
    assert [p.read_bytes() for p in _stored_files(settings)] == [data]
    current = manager.client.get(url).json()
    assert current["id"] == body["id"] and current["status"] == "ready"
    statuses = [
        (e.data["from"], e.data["to"])
        for e in Event.objects.filter(subject_id=asset.pk, type="asset.status_changed")
    ]
    assert statuses == [("", "uploaded"), ("uploaded", "analysing"), ("analysing", "ready")]


def test_multipart_png_and_reupload_supersedes(
    manager: Caller,
    release: Release,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    url = f"/api/v1/releases/{release.pk}/artwork/"
    first_bytes, second_bytes = make_png(3000, 3000), make_png(3200, 3200)
    with django_capture_on_commit_callbacks(execute=True):
        first = manager.client.post(
            url, {"file": SimpleUploadedFile("cover.png", first_bytes)}, format="multipart"
        )
        second = manager.client.post(
            url, {"file": SimpleUploadedFile("cover2.png", second_bytes)}, format="multipart"
        )
    assert first.status_code == second.status_code == 201
    assert second.json()["original_filename"] == "cover2.png"
    assert Asset.objects.get(pk=first.json()["id"]).superseded_at is not None
    current = manager.client.get(url).json()
    assert current["id"] == second.json()["id"]
    assert current["analysis"]["width"] == 3200


def test_wav_upload_fills_track_duration(
    manager: Caller,
    track: Track,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    data = make_wav(seconds=3.0, sample_rate=48000, bit_depth=24, channels=2)
    response = _put(
        manager,
        f"/api/v1/tracks/{track.pk}/audio/",
        data,
        "audio/wav",
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 201, response.content
    asset = Asset.objects.get(pk=response.json()["id"])
    assert asset.status == "ready"
    assert asset.analysis["sample_rate"] == 48000
    assert asset.analysis["bit_depth"] == 24
    assert asset.analysis["channels"] == 2
    track.refresh_from_db()
    assert track.duration_seconds == 3


def test_type_comes_from_the_bytes_not_the_name(
    manager: Caller,
    release: Release,
    settings,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    url = f"/api/v1/releases/{release.pk}/artwork/"
    png_named_jpg = manager.client.post(
        url,
        {"file": SimpleUploadedFile("cover.jpg", make_png(3000, 3000), "image/jpeg")},
        format="multipart",
    )
    assert png_named_jpg.status_code == 201
    assert png_named_jpg.json()["content_type"] == "image/png"
    before_files, before_rows = len(_stored_files(settings)), Asset.objects.count()
    for payload, content_type in [
        (b"just some text, honestly a JPEG", "image/jpeg"),
        (make_wav(seconds=0.1), "image/jpeg"),
        (b"GIF89a" + b"\x00" * 100, "image/gif"),
    ]:
        response = manager.client.generic("PUT", url, payload, content_type=content_type)
        assert response.status_code == 415, response.content
        assert response.json()["error"]["code"] == "unsupported_media_type"
    assert (len(_stored_files(settings)), Asset.objects.count()) == (before_files, before_rows)


def test_oversized_and_empty_uploads_leave_nothing(
    manager: Caller, release: Release, settings
) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/releases/{release.pk}/artwork/"
    settings.ARTWORK_MAX_BYTES = 10_000
    big = manager.client.generic("PUT", url, make_jpeg(3000, 3000), content_type="image/jpeg")
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "payload_too_large"
    empty = manager.client.generic("PUT", url, b"", content_type="image/jpeg")
    assert empty.status_code == 400
    no_field = manager.client.post(
        url, {"other": SimpleUploadedFile("x.jpg", b"abc")}, format="multipart"
    )
    assert no_field.status_code == 400
    assert "file" in no_field.json()["error"]["details"]
    assert not Asset.objects.exists()
    assert _stored_files(settings) == []


def test_truncated_and_bomb_files_are_stored_but_unreadable(
    manager: Caller,
    release: Release,
    settings,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    url = f"/api/v1/releases/{release.pk}/artwork/"
    truncated = _put(
        manager,
        url,
        truncate(make_jpeg(3000, 3000)),
        "image/jpeg",
        django_capture_on_commit_callbacks,
    )
    assert truncated.status_code == 201
    asset = Asset.objects.get(pk=truncated.json()["id"])
    assert asset.status == "unreadable"
    assert asset.error
    findings = manager.client.get(f"/api/v1/releases/{release.pk}/validate/").json()["findings"]
    assert "artwork.readable" in {f["rule_id"] for f in findings}

    settings.ARTWORK_MAX_PIXELS = 1_000_000
    bomb = _put(manager, url, make_png(2000, 2000), "image/png", django_capture_on_commit_callbacks)
    asset = Asset.objects.get(pk=bomb.json()["id"])
    assert asset.status == "unreadable"
    assert "1000000" in asset.error.replace(",", "").replace("_", "")


def test_uploads_refused_once_submitted(
    manager: Caller, release: Release, track: Track, settings
) -> None:  # type: ignore[no-untyped-def]
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.SUBMITTED)
    art = manager.client.generic(
        "PUT",
        f"/api/v1/releases/{release.pk}/artwork/",
        make_jpeg(100, 100),
        content_type="image/jpeg",
    )
    audio = manager.client.generic(
        "PUT", f"/api/v1/tracks/{track.pk}/audio/", make_wav(seconds=0.1), content_type="audio/wav"
    )
    assert art.status_code == audio.status_code == 409
    assert not Asset.objects.exists()
    assert _stored_files(settings) == []


def test_permissions_and_tenancy(
    make_caller: MakeCaller, release: Release, manager: Caller
) -> None:
    viewer = make_caller(organization=manager.organization, role="viewer")
    stranger = make_caller()
    url = f"/api/v1/releases/{release.pk}/artwork/"
    assert (
        viewer.client.generic("PUT", url, make_jpeg(50, 50), content_type="image/jpeg").status_code
        == 403
    )
    assert (
        stranger.client.generic(
            "PUT", url, make_jpeg(50, 50), content_type="image/jpeg"
        ).status_code
        == 404
    )
    assert stranger.client.get(url).status_code == 404
    assert viewer.client.get(url).status_code == 404  # nothing uploaded yet, but visible to read
    assert not Asset.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
@pytest.mark.slow
def test_real_worker_analyses_an_upload(celery_worker_process, make_caller: MakeCaller) -> None:  # type: ignore[no-untyped-def]
    import time

    caller = make_caller(role="manager")
    track = TrackFactory(release__organization=caller.organization, duration_seconds=None)
    response = caller.client.generic(
        "PUT", f"/api/v1/tracks/{track.pk}/audio/", make_wav(seconds=2.0), content_type="audio/wav"
    )
    assert response.status_code == 201
    asset_id = response.json()["id"]
    deadline = time.monotonic() + 30
    while Asset.objects.get(pk=asset_id).status not in ("ready", "unreadable"):
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.2)
    assert Asset.objects.get(pk=asset_id).status == "ready"
    track.refresh_from_db()
    assert track.duration_seconds == 2
    assert "distribution.asset_analyse" in celery_worker_process.log()
