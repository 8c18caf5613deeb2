"""The delivery pipeline end to end, against a real Celery worker, PostgreSQL and Redis.

A release approved through the API goes to three stores on three transports (a folder, the
real asyncssh SFTP server of tests/sftp_server.py, moto's S3 server in a subprocess); a real
worker process builds, validates and uploads each batch, and later reads the stores'
acknowledgement files. The fault tests break what production breaks: the store's server dies
mid-upload, the worker is SIGKILLed mid-upload, the broker hands the same task out twice.

Store secrets reach the worker the way they reach production, as STORE_<CODE>_* environment
variables, so every fixture that sets the environment runs before the worker is spawned.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from lxml import etree

from accounts.choices import Role
from conftest import BIN, ROOT, Caller, MakeCaller, RunningProcess, _process_env, _stop
from distribution.choices import DeliveryKind, DeliveryStatus, ReleaseStatus, TransportKind
from distribution.ddex.schema import validate as validate_ern
from distribution.models import Asset, Delivery, Release, ReleaseStore, Store
from distribution.tasks import (
    acknowledgements_poll,
    deliveries_retry_due,
    delivery_send,
    store_batch_send,
    store_batches_due,
)
from distribution.tests.media_files import make_jpeg, make_wav
from distribution.tests.sftp_server import PASSWORD, USERNAME, SftpTestServer
from distribution.tests.test_transports import MotoServer
from distribution.tests.workflow_fixtures import submittable_release
from distribution.transports import make_batch_id
from realtime.models import Event

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

FS, SFTP, S3 = "file-drop", "sftp-drop", "s3-drop"
AWS_KEY, AWS_SECRET = "AKIAE2ETESTKEY", "e2e-test-secret"
DEADLINE = 60.0  # seconds for anything the worker does; a healthy run needs a few


# --- stores on three transports, their secrets in the environment --------------------------


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sftp(tmp_path: Path) -> Iterator[SftpTestServer]:
    server = SftpTestServer(tmp_path / "sftp-root")
    server.start()
    yield server
    server.crash_rule = None
    server.close()


def _s3(moto: MotoServer) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id=AWS_KEY,
        aws_secret_access_key=AWS_SECRET,
    )


class Drops:
    """The three stores and a view of each one's drop from the store's side."""

    def __init__(self, root: Path, sftp: SftpTestServer, moto: MotoServer, bucket: str) -> None:
        self.root, self.sftp, self.moto, self.bucket = root, sftp, moto, bucket
        self.stores = {
            FS: Store.objects.create(
                code=FS,
                name="Folder Store",
                dpid="PADPIDA0000000001X",
                transport=TransportKind.FILESYSTEM,
            ),
            SFTP: Store.objects.create(
                code=SFTP,
                name="SFTP Store",
                dpid="PADPIDA0000000002X",
                transport=TransportKind.SFTP,
                transport_settings={
                    "host": "127.0.0.1",
                    "port": sftp.port,
                    "username": USERNAME,
                    "root": "/drop",
                    "insecure_skip_host_key_check": True,
                    "timeout_seconds": 20,
                },
            ),
            S3: Store.objects.create(
                code=S3,
                name="S3 Store",
                dpid="PADPIDA0000000003X",
                transport=TransportKind.S3,
                transport_settings={
                    "bucket": bucket,
                    "prefix": "drop",
                    "endpoint_url": moto.endpoint,
                    "region_name": "us-east-1",
                    "max_attempts": 2,
                    "connect_timeout": 5,
                },
            ),
        }

    def tree(self, code: str) -> dict[str, bytes]:
        """Every file on the store's drop (temporaries included), by path below its root."""
        if code == FS:
            folder = self.root / FS
            return {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in folder.rglob("*")
                if p.is_file()
            }
        if code == SFTP:
            return {
                name.removeprefix("drop/"): data
                for name, data in self.sftp.tree().items()
                if name.startswith("drop/")
            }
        client = _s3(self.moto)
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix="drop/"
        ):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                found[item["Key"].removeprefix("drop/")] = body
        return found

    def write_order(self, code: str) -> list[str]:
        """Final paths in the order the store saw them written into place, from its side.

        A folder has no such log (file times tie within the kernel's clock tick), so the
        folder store answers with its files, the marker last only if no file is newer.
        """
        if code == FS:
            files = [p for p in (self.root / FS).rglob("*") if p.is_file()]
            files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name.startswith("BatchComplete_")))
            return [p.relative_to(self.root / FS).as_posix() for p in files]
        if code == SFTP:
            return [path.removeprefix("/drop/") for path in self.sftp.written_paths()]
        # moto's request log: one line per completed request, in order.
        log = re.sub(r"\x1b\[[0-9;]*m", "", self.moto.log_path.read_text(errors="replace"))
        pattern = rf'"PUT /{re.escape(self.bucket)}/drop/(\S+) HTTP/1\.1" 200'
        return re.findall(pattern, log)

    def put_ack(self, code: str, name: str, content: str) -> None:
        if code == FS:
            target = self.root / FS / "ack" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        elif code == SFTP:
            target = self.sftp.root / "drop" / "ack" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        else:
            _s3(self.moto).put_object(
                Bucket=self.bucket, Key=f"drop/ack/{name}", Body=content.encode()
            )


@pytest.fixture
def drops(
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
    sftp: SftpTestServer,
    moto: MotoServer,
) -> Drops:
    """Three stores and the environment a worker needs to reach them (set before it starts)."""
    root = tmp_path / "stores"
    settings.STORE_DROP_ROOT = str(root)
    monkeypatch.setenv("STORE_DROP_ROOT", str(root))
    monkeypatch.setenv("STORE_SFTP_DROP_PASSWORD", PASSWORD)
    monkeypatch.setenv("STORE_SFTP_BATCH_PASSWORD", PASSWORD)  # the batch-mode store's
    monkeypatch.setenv("STORE_S3_DROP_AWS_ACCESS_KEY_ID", AWS_KEY)
    monkeypatch.setenv("STORE_S3_DROP_AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    # Nothing from the machine's own AWS setup may leak into the worker's S3 client.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    bucket = f"drop-{uuid.uuid4().hex[:12]}"
    _s3(moto).create_bucket(Bucket=bucket)
    return Drops(root, sftp, moto, bucket)


# --- real worker processes ------------------------------------------------------------------


@pytest.fixture
def worker(drops: Drops, request: pytest.FixtureRequest) -> RunningProcess:
    """The conftest worker, started only once `drops` has put the stores' secrets in place."""
    running: RunningProcess = request.getfixturevalue("celery_worker_process")
    return running


SpawnWorker = Callable[[str], RunningProcess]


@pytest.fixture
def spawn_worker(worker: RunningProcess) -> Iterator[SpawnWorker]:
    """More workers on the same queue, as the conftest fixture starts its one (no purge)."""
    started: list[RunningProcess] = []

    def spawn(name: str) -> RunningProcess:
        log_path = Path(tempfile.mkdtemp(prefix=f"celery-{name}-")) / "worker.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "enterprise_suite",
                    "worker",
                    "--pool=solo",
                    "-n",
                    f"{name}@%h",
                    "-Q",
                    worker.queue,
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "INFO",
                ],
                cwd=ROOT,
                env=_process_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        running = RunningProcess(process=process, log_path=str(log_path), queue=worker.queue)
        started.append(running)
        deadline = time.monotonic() + 60
        while "ready." not in running.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker {name} did not start:\n{running.log()}")
            time.sleep(0.2)
        return running

    yield spawn
    for running in started:
        _stop(running.process)


def _logs(*workers: RunningProcess) -> str:
    return "\n".join(f"--- worker log {w.log_path}:\n{w.log()}" for w in workers)


def _wait(condition: Callable[[], bool], what: str, workers: tuple[RunningProcess, ...]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            states = list(Delivery.objects.values_list("store__code", "status", "last_error"))
            pytest.fail(f"timed out waiting for {what}; deliveries: {states}\n{_logs(*workers)}")
        time.sleep(0.1)


def _wait_status(delivery: Delivery, status: str, workers: tuple[RunningProcess, ...]) -> Delivery:
    _wait(
        lambda: Delivery.objects.filter(pk=delivery.pk, status=status).exists(),
        f"delivery to {delivery.store.code} to be {status}",
        workers,
    )
    delivery.refresh_from_db()
    return delivery


# --- a release with real files, approved through the API ------------------------------------


def _real_files(release: Release, *, wav_seconds: float = 0.5) -> dict[str, bytes]:
    """Store real bytes for each asset, with the checksums an upload records; return them
    by the name the store receives them under."""
    delivered: dict[str, bytes] = {}
    for asset in Asset.objects.filter(release=release) | Asset.objects.filter(
        track__release=release
    ):
        if asset.kind == "artwork":
            data, name = make_jpeg(3000, 3000), f"{release.upc}.jpg"
        else:
            data = make_wav(seconds=wav_seconds)
            name = f"{release.upc}_{asset.track.disc_number:02d}_{asset.track.track_number:03d}.wav"
        asset.file.name = default_storage.save(f"assets/e2e/{asset.pk}", ContentFile(data))
        asset.size_bytes = len(data)
        asset.md5 = hashlib.md5(data).hexdigest()  # noqa: S324 (DDEX's HashSum, not security)
        asset.sha256 = hashlib.sha256(data).hexdigest()
        asset.save()
        delivered[name] = data
    return delivered


def _people(make_caller: MakeCaller) -> tuple[Caller, Caller]:
    manager = make_caller(role=Role.MANAGER)
    reviewer = make_caller(organization=manager.organization, role=Role.QC_REVIEWER)
    return manager, reviewer


def _approve(manager: Caller, reviewer: Caller, release: Release, codes: list[str]) -> None:
    """Choose stores and submit as the label, approve as QC: the approval enqueues the sends."""
    url = f"/api/v1/releases/{release.pk}"
    chosen = manager.client.put(f"{url}/stores/", {"stores": codes}, format="json")
    assert chosen.status_code == 200, chosen.content
    assert chosen.json() == {"stores": sorted(codes)}
    submitted = manager.client.post(f"{url}/submit/")
    assert submitted.status_code == 200, submitted.content
    approved = reviewer.client.post(f"{url}/approve/", {"note": "Looks right."}, format="json")
    assert approved.status_code == 200, approved.content


def _expected(delivery: Delivery, resources: dict[str, bytes]) -> dict[str, bytes]:
    """The batch as the store must hold it: resources, the exact XML sent, the empty marker."""
    upc, batch = delivery.release.upc, delivery.batch_id
    files = {f"{batch}/{upc}/resources/{name}": data for name, data in resources.items()}
    files[f"{batch}/{upc}/{upc}.xml"] = delivery.message_xml.encode()
    files[f"{batch}/BatchComplete_{batch}.xml"] = b""
    return files


def _check_message(xml: bytes, delivery: Delivery, resources: dict[str, bytes]) -> None:
    """Valid ERN 4.3 addressed to the store, whose every File matches the bytes delivered."""
    assert validate_ern(xml, Path(settings.DDEX_SCHEMA_DIR)) == []
    root = etree.fromstring(xml)
    assert root.findtext("MessageHeader/MessageId") == delivery.message_id
    assert root.findtext("MessageHeader/MessageRecipient/PartyId") == delivery.store.dpid
    described = {}
    for file in root.xpath("//*[local-name()='File']"):
        name = file.findtext("URI")
        algorithm = file.findtext("HashSum/Algorithm")
        data = resources[name]
        digest = hashlib.new({"MD5": "md5", "SHA-256": "sha256"}[algorithm], data).hexdigest()
        described[name] = (file.findtext("HashSum/HashSumValue"), int(file.findtext("FileSize")))
        assert described[name] == (digest, len(data)), name
    assert set(described) == set(resources)


def _queued_delivery(release: Release, store: Store) -> Delivery:
    """The row an approval leaves behind, without the approval's own send message, so the
    test decides exactly which send messages the broker carries."""
    ReleaseStore.objects.create(release=release, store=store)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.APPROVED)
    delivery = Delivery.objects.create(
        organization_id=release.organization_id,
        release=release,
        store=store,
        kind=DeliveryKind.INSERT,
        message_id=f"ES-{uuid.uuid4().hex}",
    )
    delivery.batch_id = make_batch_id(delivery.created_at, str(delivery.pk)[:8])
    delivery.save(update_fields=["batch_id"])
    return delivery


# --- 1. End to end --------------------------------------------------------------------------


def test_approved_release_reaches_three_transports_and_acknowledgements_settle_it(
    make_caller: MakeCaller, drops: Drops, worker: RunningProcess
) -> None:
    manager, reviewer = _people(make_caller)
    release = submittable_release(manager.organization, tracks=2)
    resources = _real_files(release)
    _approve(manager, reviewer, release, [FS, SFTP, S3])

    deliveries = {d.store.code: d for d in Delivery.objects.filter(release=release)}
    assert set(deliveries) == {FS, SFTP, S3}
    for delivery in deliveries.values():
        _wait_status(delivery, DeliveryStatus.DELIVERED, (worker,))
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DELIVERED
    for delivery in deliveries.values():
        assert f"distribution.delivery_send[{delivery.attempts.get().task_id}]" in worker.log()

    for code, delivery in deliveries.items():
        expected = _expected(delivery, resources)
        tree = drops.tree(code)
        # Exactly the batch: every file whole, no temporaries, nothing else.
        assert tree == expected, (code, sorted(tree))
        upc = release.upc
        _check_message(tree[f"{delivery.batch_id}/{upc}/{upc}.xml"], delivery, resources)
        order = drops.write_order(code)
        assert sorted(order) == sorted(expected), (code, order)
        assert order[-1] == f"{delivery.batch_id}/BatchComplete_{delivery.batch_id}.xml", code
        assert list(delivery.attempts.values_list("outcome", flat=True)) == ["delivered"]
        assert delivery.delivered_at is not None
        assert delivery.last_error == ""
    statuses = [
        e.data["to"]
        for e in Event.objects.filter(release_id=release.pk, type="release.status_changed")
    ]
    assert statuses[-3:] == ["approved", "delivering", "delivered"]

    # The stores answer: two accept, one rejects with a reason.
    verdicts = {
        FS: "<Status>SuccessfullyProcessed</Status>",
        SFTP: "<Status>SuccessfullyProcessed</Status>",
        S3: "<Status>ProcessingError</Status><ErrorText>Cover art is blurry</ErrorText>",
    }
    for code, verdict in verdicts.items():
        message_id = deliveries[code].message_id
        drops.put_ack(
            code,
            f"ACK_{message_id}.xml",
            f"<Ack><MessageId>{message_id}</MessageId>{verdict}</Ack>",
        )
    counts = acknowledgements_poll.delay().get(timeout=DEADLINE)
    assert counts == {"applied": 3, "unmatched": 0, "unreadable": 0, "errors": 0}, worker.log()
    assert "distribution.acknowledgements_poll" in worker.log()

    for delivery in deliveries.values():
        delivery.refresh_from_db()
    assert deliveries[FS].status == DeliveryStatus.ACKNOWLEDGED
    assert deliveries[SFTP].status == DeliveryStatus.ACKNOWLEDGED
    assert deliveries[FS].acknowledged_at is not None
    rejected = deliveries[S3]
    assert rejected.status == DeliveryStatus.REJECTED
    assert (rejected.store_message, rejected.last_error) == ("Cover art is blurry",) * 2
    for code, delivery in deliveries.items():
        ack = f"ACK_{delivery.message_id}.xml"
        acks = {path: data for path, data in drops.tree(code).items() if path.startswith("ack/")}
        assert list(acks) == [f"ack/archive/{ack}"], (code, list(acks))  # moved, not copied
    # A second poll finds nothing left to read.
    assert acknowledgements_poll.delay().get(timeout=DEADLINE)["applied"] == 0


# --- 2. Faults ------------------------------------------------------------------------------


class UploadGate:
    """Holds the SFTP server inside the first write of a WAV until released: a store whose
    link stalls mid-upload, so a test can act while the delivery is `uploading`.

    It rides on the test server's crash hook (called on every write, on the server's loop),
    which therefore blocks the whole server while closed; `release()` reopens it.
    """

    def __init__(self, server: SftpTestServer, after_bytes: int = 64 * 1024) -> None:
        self.reached = threading.Event()
        self._open = threading.Event()
        self.after_bytes = after_bytes
        server.crash_rule = self._hold

    def _hold(self, path: str, written: int) -> bool:
        first = not self.reached.is_set()
        if first and path.endswith(".wav.partial") and written >= self.after_bytes:
            self.reached.set()
            self._open.wait(timeout=30)
        return False

    def release(self) -> None:
        self._open.set()


@pytest.fixture
def gate(sftp: SftpTestServer) -> Iterator[UploadGate]:
    held = UploadGate(sftp)
    yield held
    held.release()  # never leave the server's loop blocked, or its shutdown hangs


def _single_sftp_delivery(
    make_caller: MakeCaller, *, wav_seconds: float
) -> tuple[Release, dict[str, bytes]]:
    manager, reviewer = _people(make_caller)
    release = submittable_release(manager.organization, tracks=2)
    resources = _real_files(release, wav_seconds=wav_seconds)
    _approve(manager, reviewer, release, [SFTP])
    return release, resources


def _assert_delivered_once(drops: Drops, delivery: Delivery, resources: dict[str, bytes]) -> None:
    """One batch folder, one whole set of files, one marker, each renamed into place once."""
    expected = _expected(delivery, resources)
    tree = drops.tree(SFTP)
    assert tree == expected, sorted(tree)  # also: no half-written temporary left behind
    assert {path.split("/")[0] for path in tree} == {delivery.batch_id}
    order = drops.write_order(SFTP)
    assert sorted(order) == sorted(expected), order  # no file written into place twice
    assert order[-1].endswith(f"BatchComplete_{delivery.batch_id}.xml")


def test_store_server_down_mid_upload_fails_with_backoff_and_the_retry_completes(
    make_caller: MakeCaller, drops: Drops, sftp: SftpTestServer, worker: RunningProcess
) -> None:
    # The store's server dies while the first WAV is going up (listener closed, link cut).
    sftp.crash_rule = lambda path, written: path.endswith(".wav.partial") and written > 64 * 1024
    release, resources = _single_sftp_delivery(make_caller, wav_seconds=2.0)
    delivery = Delivery.objects.get(release=release)
    delivery = _wait_status(delivery, DeliveryStatus.FAILED, (worker,))
    assert sftp.crash_rule is None, "the server was never asked for the WAV"

    before = timezone.now()
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > before
    assert "SFTP" in delivery.last_error and "attempt 1 of" in delivery.last_error
    [attempt] = delivery.attempts.all()
    assert (attempt.outcome, attempt.error) == ("retry", delivery.last_error)
    assert attempt.finished_at is not None
    assert f"BatchComplete_{delivery.batch_id}.xml" not in str(drops.tree(SFTP))
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DELIVERING

    # Nothing is due yet: the backoff holds the delivery back.
    assert deliveries_retry_due.delay().get(timeout=DEADLINE) == 0
    sftp.start()  # back on the same port
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert deliveries_retry_due.delay().get(timeout=DEADLINE) == 1, worker.log()
    delivery = _wait_status(delivery, DeliveryStatus.DELIVERED, (worker,))

    _assert_delivered_once(drops, delivery, resources)
    assert list(delivery.attempts.values_list("outcome", flat=True)) == ["retry", "delivered"]
    assert (delivery.attempt_count, delivery.last_error, delivery.next_attempt_at) == (2, "", None)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DELIVERED


def test_worker_killed_mid_upload_is_taken_over_after_the_lease_and_delivers_once(
    make_caller: MakeCaller,
    drops: Drops,
    gate: UploadGate,
    worker: RunningProcess,
    spawn_worker: SpawnWorker,
) -> None:
    release, resources = _single_sftp_delivery(make_caller, wav_seconds=6.0)
    delivery = Delivery.objects.get(release=release)
    assert gate.reached.wait(DEADLINE), worker.log()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UPLOADING
    assert delivery.lease_expires_at is not None and delivery.lease_expires_at > timezone.now()

    worker.process.kill()  # SIGKILL: no cleanup, no ack, no status change
    worker.process.wait(timeout=10)
    gate.release()
    partial = [path for path in drops.tree(SFTP) if path.endswith(".partial")]
    assert partial, "the killed run should have left its half-written WAV behind"

    replacement = spawn_worker("replacement")
    # A live lease protects the delivery: the stalled run is not taken over yet.
    assert deliveries_retry_due.delay().get(timeout=DEADLINE) == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UPLOADING
    Delivery.objects.filter(pk=delivery.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert deliveries_retry_due.delay().get(timeout=DEADLINE) == 1, replacement.log()
    delivery = _wait_status(delivery, DeliveryStatus.DELIVERED, (worker, replacement))

    _assert_delivered_once(drops, delivery, resources)
    first, second = delivery.attempts.order_by("started_at")
    assert (first.outcome, first.finished_at) == ("", None)  # the run that died
    assert second.outcome == "delivered" and second.finished_at is not None
    assert first.task_id != second.task_id
    assert delivery.attempt_count == 2

    # The killed run's message is still unacknowledged in the broker; when it comes back
    # after the visibility timeout it must change nothing. Replay it now instead of waiting.
    written = len(drops.sftp.log)
    assert delivery_send.delay(str(delivery.pk)).get(timeout=DEADLINE) is None
    assert len(drops.sftp.log) == written
    assert delivery.attempts.count() == 2
    # Drop just that stale message (kombu keeps unacknowledged ones in the "unacked" hash)
    # so no later run on this broker database replays it.
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for tag, payload in broker.hgetall("unacked").items():
        if first.task_id.encode() in payload:
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)


def test_the_same_send_twice_at_once_uploads_once(
    make_caller: MakeCaller,
    drops: Drops,
    gate: UploadGate,
    worker: RunningProcess,
    spawn_worker: SpawnWorker,
) -> None:
    second_worker = spawn_worker("second")
    workers = (worker, second_worker)
    manager, _ = _people(make_caller)
    release = submittable_release(manager.organization, tracks=2)
    resources = _real_files(release, wav_seconds=2.0)
    delivery = _queued_delivery(release, drops.stores[SFTP])

    results = [delivery_send.delay(str(delivery.pk)), delivery_send.delay(str(delivery.pk))]
    assert gate.reached.wait(DEADLINE), _logs(*workers)  # one run is mid-upload, held there
    _wait(lambda: any(r.ready() for r in results), "the duplicate to finish", workers)
    [loser] = [r for r in results if r.ready()]
    [winner] = [r for r in results if r is not loser]
    assert loser.get(timeout=1) is None  # it found the delivery claimed and under lease
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UPLOADING
    gate.release()
    # Raises if the run failed. Its value is not checked here: it is stale, see
    # test_the_send_task_reports_the_status_it_left_the_delivery_in.
    winner.get(timeout=DEADLINE)

    # Both messages were really taken at once, each by its own worker.
    takers = {
        result.id: [w.process.pid for w in workers if f"[{result.id}] received" in w.log()]
        for result in results
    }
    assert len(takers[winner.id]) == len(takers[loser.id]) == 1, takers
    assert takers[winner.id] != takers[loser.id], takers
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    [attempt] = delivery.attempts.all()
    assert (attempt.task_id, attempt.outcome) == (winner.id, "delivered")
    assert delivery.attempt_count == 1
    _assert_delivered_once(drops, delivery, resources)
    opened = [path for kind, path in drops.sftp.log if kind == "open"]
    assert len(opened) == len(set(opened)) == len(_expected(delivery, resources))


def test_the_send_task_reports_the_status_it_left_the_delivery_in(
    make_caller: MakeCaller, drops: Drops, worker: RunningProcess
) -> None:
    manager, _ = _people(make_caller)
    release = submittable_release(manager.organization, tracks=1)
    _real_files(release)
    delivery = _queued_delivery(release, drops.stores[FS])
    reported = delivery_send.delay(str(delivery.pk)).get(timeout=DEADLINE)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED, worker.log()
    assert reported == delivery.status


def test_a_failed_batch_retried_on_schedule_delivers_every_release(
    make_caller: MakeCaller, drops: Drops, sftp: SftpTestServer, worker: RunningProcess
) -> None:
    store = Store.objects.create(
        code="sftp-batch",
        name="SFTP Batch Store",
        dpid="PADPIDA0000000004X",
        transport=TransportKind.SFTP,
        delivery_mode="batch",
        transport_settings={
            **drops.stores[SFTP].transport_settings,
            "root": "/batch-drop",
            "ack_dir": "batch-ack",
            "ack_archive_dir": "batch-ack/archive",
        },
    )
    manager, reviewer = _people(make_caller)
    releases = [submittable_release(manager.organization, tracks=1) for _ in range(2)]
    for release in releases:
        _real_files(release)
        _approve(manager, reviewer, release, [store.code])
    assert set(Delivery.objects.filter(store=store).values_list("status", flat=True)) == {
        DeliveryStatus.QUEUED
    }

    sftp.stop()  # the store's server is down when the batch goes out
    assert store_batch_send.delay(str(store.pk)).get(timeout=DEADLINE) == 2, worker.log()
    failed = list(Delivery.objects.filter(store=store))
    assert {(d.status, d.next_attempt_at is not None) for d in failed} == {
        (DeliveryStatus.FAILED, True)
    }
    assert len({d.batch_id for d in failed}) == 1

    sftp.start()
    Delivery.objects.filter(store=store).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    # Both schedules run, as beat runs them.
    deliveries_retry_due.delay().get(timeout=DEADLINE)
    store_batches_due.delay().get(timeout=DEADLINE)
    _wait(
        lambda: (
            not Delivery.objects.filter(store=store)
            .exclude(status=DeliveryStatus.DELIVERED)
            .exists()
        ),
        "the batch-mode deliveries to be delivered",
        (worker,),
    )
    on_store = {
        path.removeprefix("batch-drop/")
        for path in sftp.tree()
        if path.startswith("batch-drop/") and not path.startswith("batch-drop/batch-ack")
    }
    for delivery in Delivery.objects.filter(store=store).select_related("release"):
        upc = delivery.release.upc
        assert f"{delivery.batch_id}/{upc}/{upc}.xml" in on_store, (upc, sorted(on_store))
