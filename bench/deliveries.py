"""Deliveries per minute on the filesystem transport with one Celery worker, against a plain copy.

Seeds N releases (default 200) of 3 tracks, each with its own real files in storage (a
3000x3000 JPEG and a 1 s 16-bit stereo WAV per track), chooses 3 filesystem stores for each,
submits and approves them through the services with Celery not eager: approval queues one
`distribution.delivery_send` message per store in Redis, and nothing runs yet. Then ONE real
Celery worker (prefork pool, concurrency 1: one child process runs the tasks; `--pool solo` or
`--concurrency N` to compare) is started and the database is polled until all 3N deliveries are
`delivered`. The figure is the span from the first attempt's start to the last attempt's end
(DeliveryAttempt rows), so the worker's boot is reported apart.

The baseline, in the same run: writing the same files with a plain copy, `shutil.copyfile` of
every resource from storage plus each delivery's XML (`Delivery.message_xml`, the bytes the
store got) and its empty completion marker, into a fresh tree with the same layout; timed 3
times (`--copy-rounds`), the median used, as the page cache makes a single copy noisy. Each
copy is compared with the delivered tree (paths and sizes) before any figure is printed. A
second baseline does the same copy with the transport's durability (fsync of each file and of
its folder), to show what fsync alone costs on this disk. Last, a sample of deliveries is sent
again in this process, without Celery, with the phases timed (DDEX input, XML build, XSD
validation, transport, the rest being database bookkeeping).

Everything is its own: database `enterprise_suite_delivery_bench` (dropped and recreated each
run), Redis index 10 (flushed first), MEDIA_ROOT and STORE_DROP_ROOT in a temporary folder.

    .venv/bin/python bench/deliveries.py --releases 20

Exit status: 0 after a measurement, 1 if a delivery fails or the worker dies or times out, 2 if
the plain copy did not write the same files as the deliveries (the ratio would mean nothing).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as `python bench/deliveries.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BIN,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    MB,
    ROOT,
    BenchError,
    Child,
    bench_environment,
    child_process,
    create_database,
    migrate,
    postgres_target,
    with_path,
)

DATABASE_NAME = "enterprise_suite_delivery_bench"
REDIS_DB = 10
STORE_CODES = ("bench-alpha", "bench-beta", "bench-gamma")
TRACKS_PER_RELEASE = 3
WAV_SECONDS = 1.0
POLL_SECONDS = 0.25


class TreesDiffer(Exception):
    """The plain copy did not write the same files as the deliveries: exit status 2."""


# --- Environment, database, Redis ------------------------------------------------------------


def worker_environment(work: Path, redis_db: int) -> dict[str, str]:
    return bench_environment(
        "enterprise_suite.settings",
        {
            "DATABASE_URL": with_path(
                os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, f"/{DATABASE_NAME}"
            ),
            "REDIS_URL": with_path(
                os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL, f"/{redis_db}"
            ),
            "CACHE_KEY_PREFIX": "delivery-bench",
            "CHANNELS_PREFIX": "delivery-bench",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "MEDIA_ROOT": str(work / "media"),
            "STORE_DROP_ROOT": str(work / "stores"),
            "DDEX_SCHEMA_DIR": os.environ.get("DDEX_SCHEMA_DIR")
            or str(ROOT.parent / "shared" / "ddex" / "ern43"),
        },
        unset=[
            "AWS_STORAGE_BUCKET_NAME",  # assets on the filesystem storage
            # both follow REDIS_URL; the default queue
            *("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_DEFAULT_QUEUE"),
        ],
    )


def reset_database(database_url: str) -> None:
    """Drop and recreate the bench database: every run starts from empty tables."""
    name, params = postgres_target(database_url)
    assert name == DATABASE_NAME, name  # never drop anything else
    create_database(name, params, recreate=True)


def reset_redis(redis_url: str) -> None:
    import redis

    index = int(urlsplit(redis_url).path.lstrip("/") or 0)
    assert index not in (0, 9), index  # development data; the other benchmarks
    redis.Redis.from_url(redis_url).flushdb()


def queued_messages(redis_url: str, queue: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).llen(queue))


# --- Seed ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    releases: int
    deliveries: int
    media_files: int
    media_bytes: int
    seconds: float


def seed(releases: int, fsync: bool) -> Seeded:
    """One organization, 3 filesystem stores, `releases` approved releases; tasks only queued."""
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction

    from accounts.choices import Role
    from accounts.models import Membership
    from accounts.services import organization_create
    from distribution.choices import TransportKind
    from distribution.models import Asset, Delivery, Store
    from distribution.models.assets import asset_upload_path
    from distribution.services.delivery import release_set_stores
    from distribution.services.review import release_approve, release_submit
    from distribution.tests.media_files import make_jpeg, make_wav
    from distribution.tests.workflow_fixtures import submittable_release

    assert not settings.CELERY_TASK_ALWAYS_EAGER, "tasks must queue, not run, while seeding"
    started = time.perf_counter()
    payloads: dict[str, tuple[bytes, str, str]] = {}
    for kind, data in (("artwork", make_jpeg(3000, 3000)), ("audio", make_wav(WAV_SECONDS))):
        payloads[kind] = (
            data,
            hashlib.sha256(data).hexdigest(),
            hashlib.md5(data, usedforsecurity=False).hexdigest(),
        )
    organization = organization_create(
        name="Delivery Bench Records", owner_email="owner@delivery-bench.example"
    )
    actor = Membership.objects.get(organization=organization, role=Role.OWNER).user
    transport_settings: dict[str, Any] = {} if fsync else {"fsync": False}
    for number, code in enumerate(STORE_CODES, start=1):
        Store.objects.create(
            code=code,
            name=code.replace("-", " ").title(),
            dpid=f"PADPIDA000000000{number}X",
            transport=TransportKind.FILESYSTEM,
            transport_settings={"root": f"drop-{code}", **transport_settings},
        )
    media_files = media_bytes = 0
    for _ in range(releases):
        with transaction.atomic():
            release = submittable_release(organization, tracks=TRACKS_PER_RELEASE)
            # Each asset gets its own file, named as an upload would name it.
            for asset in Asset.objects.filter(release=release) | Asset.objects.filter(
                track__release=release
            ):
                data, sha256, md5 = payloads[asset.kind]
                asset.size_bytes, asset.sha256, asset.md5 = len(data), sha256, md5
                asset.file.name = default_storage.save(
                    asset_upload_path(asset, ""), ContentFile(data)
                )
                asset.save()
                media_files += 1
                media_bytes += len(data)
            release_set_stores(release=release, codes=list(STORE_CODES))
        release_submit(release=release, actor=actor)
        release_approve(release=release, actor=actor)  # queues delivery_send on commit
    deliveries = Delivery.objects.count()
    return Seeded(releases, deliveries, media_files, media_bytes, time.perf_counter() - started)


# --- Worker ----------------------------------------------------------------------------------


@contextmanager
def celery_worker(env: dict[str, str], pool: str, concurrency: int) -> Iterator[Child]:
    """One Celery worker (one process running tasks unless `concurrency` says otherwise);
    stopped on exit, whatever happens: a warm shutdown, its process group killed if it hangs."""
    command = [
        str(BIN / "celery"),
        "-A",
        "enterprise_suite",
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        "delivery-bench@%h",
        "-l",
        "INFO",
    ]
    with child_process(
        command,
        {**env, "PYTHONUNBUFFERED": "1"},
        stop_timeout=20,
        new_session=True,  # its own process group, so a hung child can be stopped too
    ) as worker:
        try:
            yield worker
        except BenchError:
            print(f"worker log:\n{worker.tail(40)}", file=sys.stderr)
            raise


def wait_for_ready(worker: Child, timeout: float = 60) -> float:
    """Wait for the worker's " ready." line; the time.time() it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        worker.log.flush()
        worker.log.seek(0)
        if b" ready." in worker.log.read():
            return time.time()
        if worker.process.poll() is not None:
            raise BenchError(f"the worker exited with {worker.process.returncode}")
        if time.monotonic() > deadline:
            raise BenchError(f"the worker was not ready in {timeout:.0f}s")
        time.sleep(0.05)


def wait_for_deliveries(worker: Child, expected: int, timeout: float) -> float:
    """Poll until every delivery is delivered; the time.time() it was seen. Fails fast."""
    from django.db.models import Count

    from distribution.choices import DeliveryStatus
    from distribution.models import Delivery

    deadline = time.monotonic() + timeout
    last_report = time.monotonic()
    while True:
        counts = dict(
            Delivery.objects.order_by().values_list("status").annotate(n=Count("pk")).all()
        )
        if counts.get(DeliveryStatus.DELIVERED, 0) == expected:
            return time.time()
        failed = Delivery.objects.filter(
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.REJECTED, DeliveryStatus.CANCELLED]
        )
        if failed.exists():
            lines = [
                f"  {d.store.code} {d.release.upc} {d.status} after {d.attempt_count} "
                f"attempt(s): {d.last_error[:300]}"
                for d in failed.select_related("store", "release")[:10]
            ]
            raise BenchError(
                f"{failed.count()} deliveries did not go through ({counts}):\n" + "\n".join(lines)
            )
        if worker.process.poll() is not None:
            raise BenchError(f"the worker died with exit status {worker.process.returncode}")
        if time.monotonic() > deadline:
            raise BenchError(f"not all delivered after {timeout:.0f}s: {counts}")
        if time.monotonic() - last_report > 15:
            done = counts.get(DeliveryStatus.DELIVERED, 0)
            print(f"  ... {done} of {expected} delivered")
            last_report = time.monotonic()
        time.sleep(POLL_SECONDS)


@dataclass
class Timeline:
    first_start: float  # epoch seconds, from DeliveryAttempt rows written by the worker
    last_finish: float
    attempts: int
    durations: list[float]  # finished_at - started_at of each attempt

    @property
    def span(self) -> float:
        return self.last_finish - self.first_start


def timeline() -> Timeline:
    from django.db.models import Max, Min

    from distribution.models import DeliveryAttempt

    rows = list(DeliveryAttempt.objects.values_list("started_at", "finished_at"))
    bounds = DeliveryAttempt.objects.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return Timeline(
        first_start=bounds["first"].timestamp(),
        last_finish=bounds["last"].timestamp(),
        attempts=len(rows),
        durations=[(end - start).total_seconds() for start, end in rows if end is not None],
    )


# --- Baseline: the same files with a plain copy ----------------------------------------------


@dataclass
class Package:
    """What one delivery wrote, as paths relative to the drop root."""

    folder: str  # <store root>/<batch id>/<upc>
    xml_name: str
    xml: bytes
    resources: list[tuple[Path, str]]  # (source in storage, target name)
    marker: str  # <store root>/<batch id>/BatchComplete_<batch id>.xml


def copy_plan() -> list[Package]:
    """The delivered deliveries as copy jobs: sources, target names, the XML they sent."""
    from django.conf import settings
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from distribution.ddex.model import MessagingParty
    from distribution.ddex_input import ddex_package
    from distribution.models import Delivery
    from distribution.transports import Batch, ReleasePackage

    resources: dict[uuid.UUID, list[tuple[Path, str]]] = {}
    plan = []
    for delivery in Delivery.objects.select_related("store", "release").order_by("created_at"):
        if delivery.release_id not in resources:
            package = ddex_package(
                release_id=delivery.release_id,
                recipient=MessagingParty(dpid=delivery.store.dpid, name=delivery.store.name),
                sender=MessagingParty(
                    dpid=settings.DDEX_SENDER_DPID, name=settings.DDEX_SENDER_NAME
                ),
                kind=delivery.kind,
                message_id="plan",
                thread_id="plan",
                created_at=timezone.now(),
            )
            resources[delivery.release_id] = [
                (Path(default_storage.path(r.storage_name)), r.target_name)
                for r in package.resources
            ]
        upc = delivery.release.upc
        root = delivery.store.transport_settings.get("root") or delivery.store.code
        xml = delivery.message_xml.encode()
        batch = Batch(
            batch_id=delivery.batch_id,
            releases=(ReleasePackage(folder=upc, xml_name=f"{upc}.xml", xml=xml),),
        )
        plan.append(
            Package(
                folder=f"{root}/{delivery.batch_id}/{upc}",
                xml_name=f"{upc}.xml",
                xml=xml,
                resources=resources[delivery.release_id],
                marker=f"{root}/{batch.marker_path}",
            )
        )
    return plan


def _fsync_path(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def plain_copy(plan: list[Package], target: Path, *, fsync: bool = False) -> float:
    """Write every package's files under `target`; the seconds it took. With `fsync`, each
    file and then its folder is made durable right after it is written, as the filesystem
    transport does (which also writes to a temporary name and renames)."""

    def written(path: Path) -> None:
        if fsync:
            _fsync_path(path)
            _fsync_path(path.parent)

    started = time.perf_counter()
    for package in plan:
        folder = target / package.folder
        (folder / "resources").mkdir(parents=True, exist_ok=True)
        for source, name in package.resources:
            written(Path(shutil.copyfile(source, folder / "resources" / name)))
        xml = folder / package.xml_name
        xml.write_bytes(package.xml)
        written(xml)
        marker = target / package.marker
        marker.write_bytes(b"")
        written(marker)
    return time.perf_counter() - started


def tree(root: Path) -> dict[str, int]:
    """Every file below `root`: relative path -> size."""
    return {
        str(path.relative_to(root)): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file()
    }


def compare_trees(delivered: dict[str, int], copied: dict[str, int]) -> None:
    if delivered == copied:
        return
    only_delivered = sorted(set(delivered) - set(copied))[:5]
    only_copied = sorted(set(copied) - set(delivered))[:5]
    sizes = sorted(p for p in set(delivered) & set(copied) if delivered[p] != copied[p])[:5]
    raise TreesDiffer(
        f"the copy is not the delivered tree: {len(delivered)} files delivered, "
        f"{len(copied)} copied; only delivered {only_delivered}, only copied {only_copied}, "
        f"different sizes {sizes}"
    )


# --- In-process breakdown of one delivery ----------------------------------------------------


@dataclass
class Breakdown:
    deliveries: int
    total: float  # mean seconds per delivery_send
    phases: dict[str, float] = field(default_factory=dict)  # mean seconds
    queries: int = 0
    transport_without_fsync: float = 0.0
    transport_with_fsync: float = 0.0
    schema_compile: float = 0.0


def breakdown(sample: int, scratch: Path) -> Breakdown | None:
    """Send `sample` fresh deliveries with `delivery_send` in this process (no Celery), timing
    its phases by wrapping the functions it calls; then the transport alone, with and without
    fsync, on the same batches."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import distribution.ddex_input as ddex_input
    import distribution.services.delivery as delivery_service
    from distribution.choices import DeliveryStatus
    from distribution.models import Delivery
    from distribution.transports import Batch, make_batch_id
    from distribution.transports.config import FilesystemConfig
    from distribution.transports.filesystem import FilesystemTransport

    timers: dict[str, float] = defaultdict(float)
    batches: list[Batch] = []

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers[name] += time.perf_counter() - started
                if name == "transport":
                    batches.append(args[1])

        return wrapper

    originals = list(
        Delivery.objects.select_related("store", "release").order_by("created_at")[: sample + 1]
    )
    fresh = []
    for original in originals:
        delivery = Delivery.objects.create(
            organization_id=original.organization_id,
            release=original.release,
            store=original.store,
            kind=original.kind,
            message_id=f"ES-{uuid.uuid4().hex}",
        )
        delivery.batch_id = make_batch_id(delivery.created_at, str(delivery.pk)[:8])
        delivery.save(update_fields=["batch_id"])
        fresh.append(delivery.pk)
    if len(fresh) < 2:
        return None

    from distribution.ddex.schema import _load

    _load.cache_clear()
    started = time.perf_counter()
    _load(Path(settings.DDEX_SCHEMA_DIR).resolve())
    schema_compile = time.perf_counter() - started

    totals = []
    with ExitStack() as patches:
        for target, name, label in (
            (ddex_input, "ddex_package", "ddex_input"),
            (delivery_service, "build_new_release_message", "build_xml"),
            (delivery_service, "validate_ern", "xsd_validation"),
            (FilesystemTransport, "deliver_batch", "transport"),
        ):
            patches.enter_context(
                mock.patch.object(target, name, timed(label, getattr(target, name)))
            )
        for index, delivery_id in enumerate(fresh):
            if index == 0:  # warm-up, and the query count
                with CaptureQueriesContext(connection) as queries:
                    delivery_service.delivery_send(delivery_id=delivery_id, task_id="bench")
                timers.clear()
                batches.clear()
                continue
            started = time.perf_counter()
            delivery_service.delivery_send(delivery_id=delivery_id, task_id="bench")
            totals.append(time.perf_counter() - started)
    statuses = set(Delivery.objects.filter(pk__in=fresh).values_list("status", flat=True))
    if statuses != {DeliveryStatus.DELIVERED}:
        raise BenchError(f"in-process deliveries ended {statuses}")

    def transport_seconds(fsync: bool) -> float:
        root = scratch / ("fsync" if fsync else "no-fsync")
        transport = FilesystemTransport(FilesystemConfig(root=root, fsync=fsync))
        started = time.perf_counter()
        for batch in batches:
            transport.deliver_batch(batch)
        return (time.perf_counter() - started) / len(batches)

    count = len(totals)
    return Breakdown(
        deliveries=count,
        total=sum(totals) / count,
        phases={name: seconds / count for name, seconds in timers.items()},
        queries=len(queries.captured_queries),
        transport_without_fsync=transport_seconds(False),
        transport_with_fsync=transport_seconds(True),
        schema_compile=schema_compile,
    )


# --- Run -------------------------------------------------------------------------------------


def per_minute(count: int, seconds: float) -> float:
    return count * 60 / seconds if seconds > 0 else float("inf")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="delivery-bench-"))
    try:
        env = worker_environment(work, args.redis_db)
        if not Path(env["DDEX_SCHEMA_DIR"], "release-notification.xsd").is_file():
            raise BenchError(f"no ERN 4.3 schema in {env['DDEX_SCHEMA_DIR']} (DDEX_SCHEMA_DIR)")
        print(
            f"database {DATABASE_NAME} (recreated), redis {env['REDIS_URL']} (flushed), "
            f"work folder {work}"
        )
        reset_database(env["DATABASE_URL"])
        migrate(env)
        reset_redis(env["REDIS_URL"])
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections

        seeded = seed(args.releases, fsync=not args.no_fsync)
        os.sync()  # the seeded media must not be written back while the worker runs
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        queued = queued_messages(env["REDIS_URL"], queue)
        print(
            f"seeded {seeded.releases} releases x {TRACKS_PER_RELEASE} tracks, "
            f"{seeded.media_files} media files ({seeded.media_bytes / MB:.0f} MB), "
            f"{seeded.deliveries} deliveries to {len(STORE_CODES)} filesystem stores "
            f"(fsync {'off' if args.no_fsync else 'on'}) in {seeded.seconds:.1f}s; "
            f"{queued} delivery_send messages waiting in queue '{queue}'"
        )
        if queued != seeded.deliveries:
            raise BenchError(f"expected {seeded.deliveries} queued messages, found {queued}")

        with celery_worker(env, args.pool, args.concurrency) as worker:
            ready = wait_for_ready(worker)
            print(
                f"worker pid {worker.process.pid} ({args.pool} pool, concurrency "
                f"{args.concurrency}) ready in "
                f"{ready - worker.launched:.1f}s"
            )
            done_at = wait_for_deliveries(worker, seeded.deliveries, args.timeout)
        line = timeline()
        connections.close_all()

        drop_root = Path(settings.STORE_DROP_ROOT)
        delivered = tree(drop_root)
        plan = copy_plan()
        os.sync()  # start the copy with nothing of the deliveries left to write back
        copies = []
        for round_number in range(args.copy_rounds):
            copy_root = work / f"copy-{round_number}"
            copies.append(plain_copy(plan, copy_root))
            compare_trees(delivered, tree(copy_root))
            shutil.rmtree(copy_root)  # untimed; keeps the page cache from filling up
            os.sync()
        copy_seconds = statistics.median(copies)
        durable_seconds = plain_copy(plan, work / "copy-fsync", fsync=True)
        parts = breakdown(args.sample, work / "transport-only") if args.sample > 0 else None
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    n = seeded.deliveries
    files, size = len(delivered), sum(delivered.values())
    durations = line.durations
    print()
    print(
        f"worker: launched -> all {n} seen delivered {done_at - worker.launched:.1f}s "
        f"(boot {ready - worker.launched:.1f}s); first attempt start -> last finish "
        f"{line.span:.1f}s; {line.attempts} attempts"
    )
    gap = (line.span - sum(durations)) / max(n - 1, 1)
    print(
        f"attempt (claim to finish): mean {statistics.fmean(durations) * 1000:.0f} ms, "
        f"median {statistics.median(durations) * 1000:.0f} ms, "
        f"max {max(durations) * 1000:.0f} ms; "
        + (
            f"between attempts (Celery: ack, result, next message; the claim's first query) "
            f"{gap * 1000:.0f} ms"
            if args.concurrency == 1 or args.pool == "solo"
            else f"{args.concurrency} processes in parallel"
        )
    )
    print(f"plain copy rounds: {', '.join(f'{c:.2f}' for c in copies)} s (median used)")
    print(
        f"copy + fsync of each file and its folder (the transport's durability): "
        f"{durable_seconds:.1f}s = {per_minute(n, durable_seconds):.0f} per minute"
    )
    if parts is not None:
        phases = parts.phases
        accounted = sum(phases.values())
        print(
            f"in-process delivery_send, no Celery (mean of {parts.deliveries}): "
            f"{parts.total * 1000:.0f} ms = "
            + ", ".join(
                f"{name} {phases.get(name, 0) * 1000:.1f}"
                for name in ("ddex_input", "build_xml", "xsd_validation", "transport")
            )
            + f", rest (claim, status changes, events, release status: {parts.queries} queries) "
            f"{(parts.total - accounted) * 1000:.1f} ms"
        )
        print(
            f"transport alone on the same batches: {parts.transport_with_fsync * 1000:.1f} ms "
            f"with fsync, {parts.transport_without_fsync * 1000:.1f} ms without; "
            f"XSD compiled once per process in {parts.schema_compile * 1000:.0f} ms"
        )
        print(
            f"per delivery: {line.span / n * 1000:.0f} ms through the worker against "
            f"{parts.total * 1000:.0f} ms called in process"
        )
    print()
    print(
        f"deliveries: {n} in {line.span:.1f} s = {per_minute(n, line.span):.0f} per minute; "
        f"plain copy of the same {files} files ({size / MB:.0f} MB): {copy_seconds:.2f} s = "
        f"{per_minute(n, copy_seconds):.0f} per minute; pipeline at "
        f"{copy_seconds / line.span:.3f}x of a plain copy"
    )
    print(f"total {time.perf_counter() - started:.0f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--releases", type=int, default=200, help="releases (x 3 stores)")
    parser.add_argument(
        "--pool",
        choices=["prefork", "solo"],
        default="prefork",
        help="the worker's pool, always one process running tasks (default prefork)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="processes running tasks in the one worker (default 1; solo is always 1)",
    )
    parser.add_argument(
        "--no-fsync", action="store_true", help="stores with fsync off (default: on, as shipped)"
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=20,
        help="deliveries re-sent in process for the phase breakdown (0: skip; default 20)",
    )
    parser.add_argument(
        "--copy-rounds",
        type=int,
        default=3,
        help="plain copies timed, the median used (default 3)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="for all deliveries, seconds")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB, help="Redis index (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if args.releases < 1 or args.copy_rounds < 1 or args.concurrency < 1:
        parser.error("--releases, --copy-rounds and --concurrency must be at least 1")
    try:
        return run(args)
    except TreesDiffer as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 2
    except BenchError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
