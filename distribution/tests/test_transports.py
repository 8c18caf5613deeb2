"""One contract, three transports: a folder, a real SFTP server, a real S3 emulator.

The same tests run against each transport, so a guarantee the delivery service relies on
(exact layout and bytes, marker last, re-runs that never duplicate, error classes) cannot hold
for one store and silently not for another. The SFTP server is asyncssh's (tests/sftp_server)
and S3 is moto's server in a subprocess; neither needs the database.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import boto3
import pytest

from distribution.tests.sftp_server import PASSWORD, USERNAME, SftpTestServer, free_port
from distribution.transports import (
    Batch,
    DeliveredFile,
    FilesystemConfig,
    PermanentTransportError,
    ReleasePackage,
    Resource,
    S3Config,
    SftpConfig,
    TransientTransportError,
    Transport,
    config_from_mapping,
    make_batch_id,
    transport_for,
)

MiB = 1024 * 1024


# --- a sample batch ------------------------------------------------------------------------


@dataclass
class Sample:
    batch: Batch
    expected: dict[str, bytes]  # every file the store must end up with, marker included

    def path_of(self, release: int, name: str) -> str:
        folder = self.batch.releases[release].folder
        return f"{self.batch.batch_id}/{folder}/resources/{name}"


def make_sample(folder: Path, wav_sizes: tuple[int, int] = (6 * MiB + 123, 3 * MiB)) -> Sample:
    """Two releases, each an XML, a WAV of a few MB and a JPEG (any bytes will do)."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    batch_id = make_batch_id(suffix="ab12cd34")
    releases, expected = [], {}
    for index, (upc, wav_size) in enumerate(
        zip(("0602445790098", "0602445790104"), wav_sizes, strict=True)
    ):
        resources = []
        for name, size in ((f"{upc}_01_01.wav", wav_size), (f"{upc}_front.jpg", 48_000 + index)):
            data = rng.randbytes(size)
            (folder / name).write_bytes(data)
            resources.append(Resource(source=folder / name, name=name))
            expected[f"{batch_id}/{upc}/resources/{name}"] = data
        xml = f'<?xml version="1.0"?><ern:NewReleaseMessage upc="{upc}"/>'.encode()
        releases.append(ReleasePackage(upc, f"{upc}.xml", xml, tuple(resources)))
        expected[f"{batch_id}/{upc}/{upc}.xml"] = xml
    batch = Batch(batch_id=batch_id, releases=tuple(releases))
    expected[batch.marker_path] = b""
    return Sample(batch, expected)


@pytest.fixture
def sample(tmp_path: Path) -> Sample:
    return make_sample(tmp_path / "assets")


# --- one harness per transport: build it, look at the store from the store's side -----------


class Harness(ABC):
    kind: str

    @abstractmethod
    def make(self, **overrides: Any) -> Transport: ...

    @abstractmethod
    def broken(self) -> Transport:
        """A transport whose configuration fails permanently."""

    @abstractmethod
    def tree(self) -> dict[str, bytes]:
        """Every file on the store below the transport's root (temporaries included)."""

    @abstractmethod
    def put(self, path: str, data: bytes) -> None: ...

    @abstractmethod
    def reset_writes(self) -> None: ...

    @abstractmethod
    def written_paths(self) -> list[str]:
        """Final paths written since reset_writes(), in the order the store saw them (the
        filesystem's file times are too coarse for that: it lists them in time order)."""

    @abstractmethod
    def mutations(self) -> int:
        """Write operations of any kind since reset_writes()."""


class FilesystemHarness(Harness):
    kind = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._before: dict[str, tuple[int, int]] = {}

    def make(self, **overrides: Any) -> Transport:
        return transport_for(FilesystemConfig(root=self.root, **overrides))

    def broken(self) -> Transport:
        blocker = self.root.parent / "not-a-folder"
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_text("a file where the drop folder's parent should be")
        return transport_for(FilesystemConfig(root=blocker / "drop"))

    def _files(self) -> dict[str, Path]:
        if not self.root.exists():
            return {}
        return {p.relative_to(self.root).as_posix(): p for p in self.root.rglob("*") if p.is_file()}

    def tree(self) -> dict[str, bytes]:
        return {name: path.read_bytes() for name, path in self._files().items()}

    def put(self, path: str, data: bytes) -> None:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_bytes(data)

    def _evidence(self) -> dict[str, tuple[int, int]]:
        return {n: (p.stat().st_ino, p.stat().st_mtime_ns) for n, p in self._files().items()}

    def reset_writes(self) -> None:
        self._before = self._evidence()

    def written_paths(self) -> list[str]:
        now = self._evidence()
        changed = [name for name, seen in now.items() if self._before.get(name) != seen]
        return sorted(changed, key=lambda name: now[name][1])

    def mutations(self) -> int:
        return len(self.written_paths()) + len(set(self._before) - set(self._evidence()))


class SftpHarness(Harness):
    kind = "sftp"

    def __init__(self, server: SftpTestServer) -> None:
        self.server = server

    def config(self, **overrides: Any) -> SftpConfig:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.server.port,
            "username": USERNAME,
            "password": PASSWORD,
            "host_key_fingerprint": self.server.fingerprint,
            "root": "/drop",
            "timeout_seconds": 5.0,
        }
        return SftpConfig(**{**settings, **overrides})

    def make(self, **overrides: Any) -> Transport:
        return transport_for(self.config(**overrides))

    def broken(self) -> Transport:
        return self.make(password="not-the-password")

    def tree(self) -> dict[str, bytes]:
        return {
            name.removeprefix("drop/"): data
            for name, data in self.server.tree().items()
            if name.startswith("drop/")
        }

    def put(self, path: str, data: bytes) -> None:
        target = self.server.root / "drop" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def reset_writes(self) -> None:
        self.server.log.clear()

    def written_paths(self) -> list[str]:
        return [path.removeprefix("/drop/") for path in self.server.written_paths()]

    def mutations(self) -> int:
        return len(self.server.log)


class MotoServer:
    """moto's S3 emulator as a subprocess on a fixed port, stoppable and restartable."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log_path.read_text()) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def make_bucket(self, name: str) -> None:
        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1").create_bucket(
            Bucket=name
        )


class S3Harness(Harness):
    kind = "s3"
    _MUTATING = ("PutObject", "CompleteMultipartUpload", "CopyObject", "DeleteObject")

    def __init__(self, moto: MotoServer, bucket: str) -> None:
        self.moto = moto
        self.bucket = bucket
        self.calls: list[tuple[str, str]] = []

    def config(self, **overrides: Any) -> S3Config:
        settings: dict[str, Any] = {
            "bucket": self.bucket,
            "prefix": "drop",
            "endpoint_url": self.moto.endpoint,
            "region_name": "us-east-1",
            # Small thresholds so the larger WAV goes up in two parts (5 MiB is S3's minimum).
            "multipart_threshold": 1 * MiB,
            "multipart_chunksize": 5 * MiB,
            "max_attempts": 1,
            "connect_timeout": 2.0,
        }
        return S3Config(**{**settings, **overrides})

    def _record(self, transport: Any) -> Any:
        # Count write calls at the wire level: what the emulator was asked to store, in order.
        for operation in (*self._MUTATING, "CreateMultipartUpload", "UploadPart"):
            transport.client.meta.events.register(
                f"before-parameter-build.s3.{operation}",
                lambda params, _op=operation, **kwargs: self.calls.append((_op, params["Key"])),
            )
        return transport

    def make(self, **overrides: Any) -> Transport:
        return self._record(transport_for(self.config(**overrides)))

    def broken(self) -> Transport:
        return transport_for(self.config(bucket="no-such-bucket"))

    def _client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.moto.endpoint, region_name="us-east-1")

    def tree(self) -> dict[str, bytes]:
        client = self._client()
        listing = client.list_objects_v2(Bucket=self.bucket, Prefix="drop/")
        return {
            item["Key"].removeprefix("drop/"): client.get_object(
                Bucket=self.bucket, Key=item["Key"]
            )["Body"].read()
            for item in listing.get("Contents", [])
        }

    def put(self, path: str, data: bytes) -> None:
        self._client().put_object(Bucket=self.bucket, Key=f"drop/{path}", Body=data)

    def reset_writes(self) -> None:
        self.calls.clear()

    def written_paths(self) -> list[str]:
        final = ("PutObject", "CompleteMultipartUpload", "CopyObject")
        return [key.removeprefix("drop/") for op, key in self.calls if op in final]

    def mutations(self) -> int:
        return len(self.calls)


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials through boto3's default chain, as a task role would provide them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpTestServer]:
    server = SftpTestServer(tmp_path / "sftp-root")
    server.start()
    yield server
    server.close()


@pytest.fixture(params=["filesystem", "sftp", "s3"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "filesystem":
        return FilesystemHarness(tmp_path / "store" / "drop")
    if request.param == "sftp":
        return SftpHarness(request.getfixturevalue("sftp_server"))
    request.getfixturevalue("aws_env")
    moto: MotoServer = request.getfixturevalue("moto_server")
    bucket = f"store-{tmp_path.name.lower().replace('_', '-')[-40:]}-{random.randrange(10**6)}"
    moto.make_bucket(bucket)
    return S3Harness(moto, bucket)


# --- the contract -----------------------------------------------------------------------------


def test_batch_lands_complete_with_exact_bytes_and_layout(harness: Harness, sample: Sample):
    with harness.make() as transport:
        receipt = transport.deliver_batch(sample.batch)

    assert harness.tree() == sample.expected  # exact layout and bytes, marker, no temporaries
    assert not receipt.already_complete
    assert receipt.marker_path == sample.batch.marker_path
    assert {item.path for item in receipt.files} == set(sample.expected) - {receipt.marker_path}
    for item in receipt.files:
        assert item.uploaded
        assert item.size == len(sample.expected[item.path])
        assert item.sha256 == hashlib.sha256(sample.expected[item.path]).hexdigest()
    assert receipt.uploaded_bytes == sum(len(v) for v in sample.expected.values())
    assert sample.batch.batch_id in receipt.location


def test_marker_is_written_last_and_an_interrupted_run_resumes(harness: Harness, sample: Sample):
    last_resource = sample.path_of(1, sample.batch.releases[1].resources[-1].name)
    seen: list[str] = []

    class Crash(Exception):
        pass

    def crash_after_last_resource(item: DeliveredFile) -> None:
        seen.append(item.path)
        if item.path == last_resource:
            raise Crash  # the worker dies right after the last resource is in place

    harness.reset_writes()
    with harness.make() as transport, pytest.raises(Crash):
        transport.deliver_batch(sample.batch, on_file=crash_after_last_resource)
    partial = harness.tree()
    assert sample.batch.marker_path not in partial
    assert set(partial) == set(seen)  # everything before the crash, whole, and nothing else
    assert all(partial[path] == sample.expected[path] for path in seen)

    harness.reset_writes()
    with harness.make() as transport:
        receipt = transport.deliver_batch(sample.batch)
    assert harness.tree() == sample.expected  # complete, nothing duplicated or left over
    rewritten = {item.path for item in receipt.uploaded_files}
    assert rewritten == set(sample.expected) - set(seen) - {sample.batch.marker_path}
    written = harness.written_paths()
    assert set(written) == rewritten | {sample.batch.marker_path}  # skipped files untouched
    if isinstance(harness, FilesystemHarness):  # file times cannot order close writes
        times = {p.name: p.stat().st_mtime_ns for p in harness.root.rglob("*") if p.is_file()}
        assert times[sample.batch.marker_name] == max(times.values())
    else:
        assert written[-1] == sample.batch.marker_path


def test_a_stale_file_under_a_final_name_is_replaced(harness: Harness, sample: Sample):
    """A file that differs (an earlier build of the XML, a truncated copy) is overwritten."""
    xml_path = f"{sample.batch.batch_id}/{sample.batch.releases[0].folder}/0602445790098.xml"
    wav_path = sample.path_of(1, sample.batch.releases[1].resources[0].name)
    harness.put(xml_path, b"<stale/>")
    harness.put(wav_path, sample.expected[wav_path][:MiB])
    with harness.make() as transport:
        receipt = transport.deliver_batch(sample.batch)
    assert harness.tree() == sample.expected
    assert {xml_path, wav_path} <= {item.path for item in receipt.uploaded_files}


def test_rerun_of_a_complete_batch_uploads_nothing(harness: Harness, sample: Sample):
    with harness.make() as transport:
        transport.deliver_batch(sample.batch)
    harness.reset_writes()
    with harness.make() as transport:
        receipt = transport.deliver_batch(sample.batch)
    assert receipt.already_complete
    assert receipt.files == ()
    assert harness.mutations() == 0
    assert harness.tree() == sample.expected


def test_acknowledgements_are_listed_read_and_archived(harness: Harness):
    harness.put("ack/ACK_20261127103000123_ab12cd34.xml", b"<Ack>1</Ack>")
    harness.put("ack/ACK_20261127104500456_ef56ab78.xml", b"<Ack>two</Ack>")
    harness.put("ack/archive/ACK_20261101000000000_old.xml", b"<Ack>old</Ack>")

    with harness.make() as transport:
        acks = transport.list_acknowledgements()
        assert [ack.name for ack in acks] == [
            "ACK_20261127103000123_ab12cd34.xml",
            "ACK_20261127104500456_ef56ab78.xml",
        ]
        assert [ack.size for ack in acks] == [12, 14]
        assert transport.read(acks[1].path) == b"<Ack>two</Ack>"

        transport.archive_acknowledgement(acks[0])
        assert [ack.name for ack in transport.list_acknowledgements()] == [acks[1].name]
        transport.archive_acknowledgement(acks[0])  # a repeat after a crash is a no-op

    tree = harness.tree()
    assert tree["ack/archive/ACK_20261127103000123_ab12cd34.xml"] == b"<Ack>1</Ack>"
    assert "ack/ACK_20261127103000123_ab12cd34.xml" not in tree


def test_a_permanent_failure_is_reported_as_permanent(harness: Harness, sample: Sample):
    with harness.broken() as transport:
        with pytest.raises(PermanentTransportError):
            transport.deliver_batch(sample.batch)
        with pytest.raises(PermanentTransportError):
            transport.list_acknowledgements()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_filesystem_unwritable_root_is_permanent(tmp_path: Path, sample: Sample):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(PermanentTransportError):
        transport_for(FilesystemConfig(root=locked / "drop")).deliver_batch(sample.batch)


# --- transient failures: the store's server goes away mid-delivery and comes back -----------


def test_sftp_server_crash_mid_upload_is_transient_and_a_rerun_completes(
    sftp_server: SftpTestServer, sample: Sample
):
    harness = SftpHarness(sftp_server)
    wav = sample.batch.releases[1].resources[0].name
    # The server dies once 1 MiB of release 2's WAV has arrived, leaving a partial temporary.
    sftp_server.crash_rule = lambda path, count: wav in path and count > MiB
    transport = harness.make()
    with pytest.raises(TransientTransportError):
        transport.deliver_batch(sample.batch)
    stranded = harness.tree()
    assert sample.batch.marker_path not in stranded
    assert sample.path_of(1, wav) not in stranded  # never under its final name half-written
    assert any(path.endswith(f".{wav}.partial") for path in stranded)

    with pytest.raises(TransientTransportError):  # still down: connection refused
        transport.deliver_batch(sample.batch)

    sftp_server.start()  # same port, same host key
    harness.reset_writes()
    receipt = transport.deliver_batch(sample.batch)  # the same instance reconnects
    transport.close()
    assert harness.tree() == sample.expected  # the partial temporary was overwritten and renamed
    release_one = {
        path for path in sample.expected if f"/{sample.batch.releases[0].folder}/" in path
    }
    assert not any(item.uploaded for item in receipt.files if item.path in release_one)
    assert harness.written_paths()[-1] == sample.batch.marker_path


def test_s3_endpoint_down_mid_delivery_is_transient_and_a_rerun_completes(
    tmp_path: Path, aws_env: None, sample: Sample
):
    moto = MotoServer(tmp_path / "moto.log")
    moto.start()
    try:
        moto.make_bucket("store-drop")
        harness = S3Harness(moto, "store-drop")
        transport = harness.make()
        first_of_release_two = sample.path_of(1, sample.batch.releases[1].resources[0].name)

        def kill_emulator(item: DeliveredFile) -> None:
            if item.path == sample.path_of(0, sample.batch.releases[0].resources[-1].name):
                moto.stop()

        with pytest.raises(TransientTransportError):
            transport.deliver_batch(sample.batch, on_file=kill_emulator)
        with pytest.raises(TransientTransportError):
            transport.list_acknowledgements()

        moto.start()  # an emulator forgets everything: recreate the bucket
        moto.make_bucket("store-drop")
        receipt = transport.deliver_batch(sample.batch)
        assert first_of_release_two in {item.path for item in receipt.uploaded_files}
        assert harness.tree() == sample.expected
    finally:
        moto.stop()


def test_s3_uses_multipart_for_large_files_and_records_checksums(
    moto_server: MotoServer, aws_env: None, sample: Sample
):
    moto_server.make_bucket("multipart-check")
    harness = S3Harness(moto_server, "multipart-check")
    with harness.make() as transport:
        transport.deliver_batch(sample.batch)
    assert ("CreateMultipartUpload", f"drop/{sample.path_of(0, '0602445790098_01_01.wav')}") in (
        harness.calls
    )
    head = harness._client().head_object(
        Bucket="multipart-check", Key=f"drop/{sample.path_of(0, '0602445790098_01_01.wav')}"
    )
    assert head["ETag"].strip('"').endswith("-2")  # two parts of 5 MiB and 1 MiB
    wav = sample.expected[sample.path_of(0, "0602445790098_01_01.wav")]
    assert head["Metadata"]["sha256"] == hashlib.sha256(wav).hexdigest()


# --- SFTP authentication and host keys --------------------------------------------------------


def test_sftp_private_key_auth_and_host_key_check(sftp_server: SftpTestServer, sample: Sample):
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    sftp_server.authorize(client_key)
    harness = SftpHarness(sftp_server)
    key_text = client_key.export_private_key("openssh").decode()
    with harness.make(password=None, private_key=key_text) as transport:
        assert transport.deliver_batch(sample.batch).files

    with (
        harness.make(host_key_fingerprint="SHA256:" + "A" * 43) as transport,
        pytest.raises(PermanentTransportError, match="host key"),
    ):
        transport.list_acknowledgements()

    with harness.make(host_key_fingerprint=None, insecure_skip_host_key_check=True) as transport:
        assert transport.list_acknowledgements() == []


def test_sftp_server_without_posix_rename_still_replaces_files(
    sftp_server: SftpTestServer, sample: Sample
):
    sftp_server.posix_rename_supported = False
    harness = SftpHarness(sftp_server)
    stale = sample.path_of(0, sample.batch.releases[0].resources[1].name)
    harness.put(stale, b"an older, different cover")
    with harness.make() as transport:
        transport.deliver_batch(sample.batch)
    assert harness.tree() == sample.expected


def test_sftp_connection_refused_is_transient(tmp_path: Path):
    config = SftpConfig(
        host="127.0.0.1",
        port=free_port(),
        username="store",
        password="x",
        insecure_skip_host_key_check=True,
        timeout_seconds=2,
    )
    with transport_for(config) as transport, pytest.raises(TransientTransportError):
        transport.list_acknowledgements()


# --- plain data and configuration -------------------------------------------------------------


def test_missing_local_source_fails_permanently_before_writing(tmp_path: Path, sample: Sample):
    resource = Resource(source=tmp_path / "gone.wav", name="gone.wav")
    release = ReleasePackage("0602445790111", "0602445790111.xml", b"<x/>", (resource,))
    broken = Batch(batch_id=sample.batch.batch_id, releases=(*sample.batch.releases, release))
    harness = FilesystemHarness(tmp_path / "drop")
    with pytest.raises(PermanentTransportError, match=r"gone\.wav"):
        harness.make().deliver_batch(broken)
    assert harness.tree() == {}


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "with space", "x" * 201])
def test_unsafe_names_are_refused(tmp_path: Path, name: str):
    with pytest.raises(ValueError, match="not a safe file name"):
        Resource(source=tmp_path / "f", name=name)


def test_batch_ids_sort_by_time():
    from datetime import UTC, datetime

    early = make_batch_id(datetime(2026, 11, 27, 10, 30, 0, 123000, tzinfo=UTC), "zz")
    late = make_batch_id(datetime(2026, 11, 27, 10, 30, 0, 124000, tzinfo=UTC), "aa")
    assert early == "20261127103000123_zz"
    assert early < late


def test_config_from_mapping_builds_each_kind_and_rejects_mistakes(tmp_path: Path):
    sftp = config_from_mapping(
        {"kind": "sftp", "host": "sftp.store.example", "username": "label", "root": "/in"},
        {"password": "pw", "host_key_fingerprint": "SHA256:abc"},
    )
    assert isinstance(sftp, SftpConfig)
    assert "pw" not in repr(sftp)
    assert isinstance(config_from_mapping({"kind": "s3", "bucket": "b"}), S3Config)
    assert isinstance(
        transport_for(config_from_mapping({"kind": "filesystem", "root": str(tmp_path)})),
        Transport,
    )
    with pytest.raises(PermanentTransportError, match="unknown sftp transport settings"):
        config_from_mapping({"kind": "sftp", "host": "h", "username": "u", "hostkey": "x"})
    with pytest.raises(PermanentTransportError, match="host_key_fingerprint"):
        config_from_mapping({"kind": "sftp", "host": "h", "username": "u", "password": "p"})
    with pytest.raises(PermanentTransportError, match="unknown transport kind"):
        config_from_mapping({"kind": "ftp"})
    with pytest.raises(PermanentTransportError, match="incomplete"):
        config_from_mapping({"kind": "s3"})
