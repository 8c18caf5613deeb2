"""Assets on S3 (django-storages) against a real local S3 emulator, moto's server.

The storage settings come from `enterprise_suite/settings.py` itself, read in a child process
with the production environment variables set, so these tests exercise the settings block that
production uses. The API uploads, the analysis task reads the object back from the emulator,
and a failed upload leaves no object behind.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from rest_framework.test import APIClient

from conftest import Caller, MakeCaller
from distribution.choices import ReleaseStatus
from distribution.models import Asset, Release, Track
from distribution.tests.factories import ReleaseFactory, TrackFactory
from distribution.tests.media_files import make_jpeg, make_png, make_wav

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REGION = "us-east-1"
# Small enough that the test WAV is read back through a file on disk, not held in memory.
MAX_MEMORY_SIZE = 64 * 1024
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class MotoServer:
    endpoint: str
    log_path: Path

    def log(self) -> str:
        """The request log, without werkzeug's colour codes."""
        return ANSI_ESCAPE.sub("", self.log_path.read_text(errors="replace"))


@dataclass
class Bucket:
    name: str
    client: Any  # boto3 S3 client
    server: MotoServer

    def keys(self) -> set[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return {item["Key"] for item in listing.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _aws_test_env() -> dict[str, str]:
    """Dummy credentials, and nothing read from ~/.aws or an instance metadata service."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """moto's S3 emulator on a free local port, for the whole module."""
    import httpx

    port = _free_port()
    log_path = Path(tempfile.mkdtemp(prefix="moto-")) / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **_aws_test_env()},
        )
    server = MotoServer(endpoint=f"http://127.0.0.1:{port}", log_path=log_path)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(f"{server.endpoint}/moto-api/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto_server did not start:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


def _settings_storages(extra_env: dict[str, str]) -> dict[str, Any]:
    """settings.STORAGES as enterprise_suite/settings.py builds it from this environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra_env)
    env["DJANGO_SETTINGS_MODULE"] = "enterprise_suite.settings"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from enterprise_suite import settings; "
            "print(json.dumps(settings.STORAGES))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    storages: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return storages


@pytest.fixture(scope="module")
def s3_storages(moto_server: MotoServer) -> dict[str, Any]:
    return _settings_storages(
        {
            "AWS_STORAGE_BUCKET_NAME": "placeholder-bucket",
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ENDPOINT_URL": moto_server.endpoint,
            "AWS_S3_MAX_MEMORY_SIZE": str(MAX_MEMORY_SIZE),
        }
    )


@pytest.fixture
def bucket(
    moto_server: MotoServer,
    s3_storages: dict[str, Any],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Bucket:
    """A fresh bucket, and Django's default storage switched to it for this test."""
    for name, value in _aws_test_env().items():
        monkeypatch.setenv(name, value)
    name = f"assets-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_server.endpoint, region_name=REGION)
    client.create_bucket(Bucket=name)
    default = {**s3_storages["default"]}
    default["OPTIONS"] = {**default["OPTIONS"], "bucket_name": name}
    # Assigning STORAGES sends setting_changed; Django's own receiver
    # (django.test.signals.storages_changed) drops the cached backends and resets the lazy
    # default_storage, and does so again when the settings fixture restores the value.
    settings.STORAGES = {**settings.STORAGES, "default": default}
    from storages.backends.s3 import S3Storage

    assert isinstance(default_storage, S3Storage)
    assert Asset._meta.get_field("file").storage is default_storage
    assert default_storage.bucket_name == name
    return Bucket(name=name, client=client, server=moto_server)


@pytest.fixture
def manager(make_caller: MakeCaller) -> Caller:
    return make_caller(role="manager")


@pytest.fixture
def release(manager: Caller) -> Release:
    return ReleaseFactory(organization=manager.organization)


@pytest.fixture
def track(release: Release) -> Track:
    return TrackFactory(release=release, duration_seconds=None)


def _files_under_media_root(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _put(client: APIClient, url: str, data: bytes, content_type: str) -> Any:
    return client.generic("PUT", url, data, content_type=content_type)


def test_settings_select_s3_only_when_a_bucket_is_named(moto_server: MotoServer) -> None:
    s3 = _settings_storages(
        {
            "AWS_STORAGE_BUCKET_NAME": "es-assets",
            "AWS_S3_REGION_NAME": "eu-west-1",
            "AWS_S3_ENDPOINT_URL": moto_server.endpoint,
        }
    )["default"]
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] == {
        "bucket_name": "es-assets",
        "region_name": "eu-west-1",
        "endpoint_url": moto_server.endpoint,
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "signature_version": "s3v4",
        "max_memory_size": 10 * 1024 * 1024,
    }
    # No credentials in settings: boto3 finds them (env vars, task role) on its own.
    assert not {"access_key", "secret_key", "security_token"} & set(s3["OPTIONS"])
    # Real AWS: no endpoint override.
    aws = _settings_storages({"AWS_STORAGE_BUCKET_NAME": "es-assets"})["default"]
    assert aws["OPTIONS"]["endpoint_url"] is None and aws["OPTIONS"]["region_name"] is None
    # Without a bucket the filesystem default is untouched.
    assert _settings_storages({})["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }


def test_uploads_land_in_s3_and_are_analysed_from_there(
    bucket: Bucket,
    manager: Caller,
    release: Release,
    track: Track,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    jpeg = make_jpeg(3000, 3000)
    wav = make_wav(seconds=2.0, sample_rate=48000, bit_depth=24, channels=2)
    assert len(wav) > MAX_MEMORY_SIZE
    with django_capture_on_commit_callbacks(execute=True):
        art = _put(manager.client, f"/api/v1/releases/{release.pk}/artwork/", jpeg, "image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        audio = _put(manager.client, f"/api/v1/tracks/{track.pk}/audio/", wav, "audio/wav")
    assert art.status_code == 201, art.content
    assert audio.status_code == 201, audio.content

    artwork_asset = Asset.objects.get(pk=art.json()["id"])
    audio_asset = Asset.objects.get(pk=audio.json()["id"])
    assert artwork_asset.status == "ready", artwork_asset.error
    assert (artwork_asset.analysis["width"], artwork_asset.analysis["height"]) == (3000, 3000)
    assert audio_asset.status == "ready", audio_asset.error
    assert audio_asset.analysis["sample_rate"] == 48000
    assert audio_asset.analysis["bit_depth"] == 24
    track.refresh_from_db()
    assert track.duration_seconds == 2

    for asset, data in ((artwork_asset, jpeg), (audio_asset, wav)):
        assert asset.file.name.startswith(f"assets/{release.organization_id}/")
        assert bucket.read(asset.file.name) == data
        assert asset.sha256 == hashlib.sha256(data).hexdigest()
        head = bucket.client.head_object(Bucket=bucket.name, Key=asset.file.name)
        assert head["ContentLength"] == len(data)
        # django-storages names the type from the key's extension (audio/x-wav for .wav),
        # not from the sniffed bytes: the asset row's content_type is the authority.
        assert head["ContentType"] == mimetypes.guess_type(asset.file.name)[0]
        # The analysis read the object back from the emulator, not from a local copy.
        assert f'"GET /{bucket.name}/{asset.file.name}' in bucket.server.log()
    assert bucket.keys() == {artwork_asset.file.name, audio_asset.file.name}
    assert _files_under_media_root(settings) == []

    # Reading back spools to disk past max_memory_size (settings: AWS_S3_MAX_MEMORY_SIZE).
    with default_storage.open(audio_asset.file.name, "rb") as stored:
        assert stored.read(4) == b"RIFF"
        assert stored.file._rolled  # SpooledTemporaryFile moved to disk

    # The object is private: the URL is a signed, expiring one.
    url = default_storage.url(audio_asset.file.name)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=" in url


def test_multipart_reupload_keeps_the_superseded_object(
    bucket: Bucket,
    manager: Caller,
    release: Release,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/v1/releases/{release.pk}/artwork/"
    first, second = make_png(3000, 3000), make_jpeg(3100, 3100)
    with django_capture_on_commit_callbacks(execute=True):
        one = manager.client.post(
            url, {"file": SimpleUploadedFile("a.png", first)}, format="multipart"
        )
    with django_capture_on_commit_callbacks(execute=True):
        two = manager.client.post(
            url, {"file": SimpleUploadedFile("b.jpg", second)}, format="multipart"
        )
    assert one.status_code == two.status_code == 201
    old, new = Asset.objects.get(pk=one.json()["id"]), Asset.objects.get(pk=two.json()["id"])
    assert old.superseded_at is not None and new.superseded_at is None
    assert new.status == "ready" and new.analysis["width"] == 3100
    assert bucket.keys() == {old.file.name, new.file.name}  # kept for the audit trail
    assert bucket.read(old.file.name) == first and bucket.read(new.file.name) == second


def test_refused_uploads_leave_no_object(
    bucket: Bucket,
    manager: Caller,
    release: Release,
    track: Track,
    settings: Any,
) -> None:
    art_url = f"/api/v1/releases/{release.pk}/artwork/"
    audio_url = f"/api/v1/tracks/{track.pk}/audio/"
    not_a_jpeg = _put(manager.client, art_url, b"plain text, not a JPEG", "image/jpeg")
    assert not_a_jpeg.status_code == 415
    wav_as_art = _put(manager.client, art_url, make_wav(seconds=0.1), "image/jpeg")
    assert wav_as_art.status_code == 415
    empty = _put(manager.client, audio_url, b"", "audio/wav")
    assert empty.status_code == 400
    settings.ARTWORK_MAX_BYTES = 10_000
    too_big = _put(manager.client, art_url, make_jpeg(1000, 1000), "image/jpeg")
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    settings.ARTWORK_MAX_BYTES = 50 * 1024 * 1024

    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.SUBMITTED)
    art = _put(manager.client, art_url, make_jpeg(100, 100), "image/jpeg")
    audio = _put(manager.client, audio_url, make_wav(seconds=0.1), "audio/wav")
    assert art.status_code == audio.status_code == 409
    assert art.json()["error"]["code"] == audio.json()["error"]["code"]

    assert not Asset.objects.exists()
    assert bucket.keys() == set()
    assert _files_under_media_root(settings) == []


def test_a_failure_after_the_object_is_written_deletes_it(
    bucket: Bucket, manager: Caller, release: Release, settings: Any
) -> None:
    """The row insert fails (a database trigger refuses it) after the object is in S3."""
    table = Asset._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION pg_temp.refuse_asset() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'asset insert refused by test trigger'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_asset BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_asset()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER refuse_asset BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'asset insert refused by test trigger'); END"
            )
    manager.client.raise_request_exception = False
    response = _put(
        manager.client, f"/api/v1/releases/{release.pk}/artwork/", make_jpeg(200, 200), "image/jpeg"
    )
    assert response.status_code == 500
    # The object was written, then deleted by asset_upload's cleanup.
    log = bucket.server.log()
    assert f'"PUT /{bucket.name}/assets/{release.organization_id}/artwork/' in log
    assert f'"DELETE /{bucket.name}/assets/{release.organization_id}/artwork/' in log
    assert bucket.keys() == set()
    assert not Asset.objects.exists()
