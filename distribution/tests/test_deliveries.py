"""Approval to store: deliveries packaged, validated against the XSD, dropped on the store's
transport with the marker last, acknowledged from the store's files; retries and takedowns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from lxml import etree

from conftest import Caller, MakeCaller
from distribution.choices import DeliveryStatus, ReleaseStatus, TransportKind
from distribution.ddex.schema import validate as validate_ern
from distribution.models import Asset, Delivery, DeliveryAttempt, Release, Store
from distribution.services.acknowledgements import acknowledgements_poll
from distribution.services.delivery import delivery_send
from distribution.tests.media_files import make_jpeg, make_wav
from distribution.tests.workflow_fixtures import submittable_release
from realtime import stream
from realtime.models import Event

pytestmark = pytest.mark.django_db
ERN = "{http://ddex.net/xml/ern/43}"


@pytest.fixture(autouse=True)
def _needs_the_schema(ddex_schema_dir: Path) -> None:
    """Every delivery validates its message against the official XSD."""


@pytest.fixture(autouse=True)
def drop_root(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.STORE_DROP_ROOT = str(tmp_path / "stores")
    return tmp_path / "stores"


@pytest.fixture
def stores() -> list[Store]:
    return [
        Store.objects.create(
            code=code,
            name=code.title(),
            dpid=f"PADPIDA000000000{n}X",
            transport=TransportKind.FILESYSTEM,
        )
        for n, code in enumerate(["alpha", "beta"], start=1)
    ]


def _real_files(release: Release) -> None:
    """Give the fixture's assets real bytes in storage, as an upload would have."""
    for asset in Asset.objects.filter(release=release) | Asset.objects.filter(
        track__release=release
    ):
        data = make_jpeg(3000, 3000) if asset.kind == "artwork" else make_wav(seconds=0.5)
        asset.file.name = default_storage.save(f"assets/test/{asset.pk}", ContentFile(data))
        asset.size_bytes = len(data)
        asset.save()


@pytest.fixture
def manager(make_caller: MakeCaller) -> Caller:
    return make_caller(role="owner")


def _approved(caller: Caller, stores: list[Store], capture) -> Release:  # type: ignore[no-untyped-def]
    release = submittable_release(caller.organization, tracks=2)
    _real_files(release)
    url = f"/api/v1/releases/{release.pk}"
    chosen = caller.client.put(
        f"{url}/stores/", {"stores": [s.code for s in stores]}, format="json"
    )
    assert chosen.json() == {"stores": sorted(s.code for s in stores)}
    assert caller.client.post(f"{url}/submit/").status_code == 200
    with capture(execute=True):
        approved = caller.client.post(f"{url}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.content
    release.refresh_from_db()
    return release


def test_approval_delivers_to_every_chosen_store(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    release = _approved(manager, stores, django_capture_on_commit_callbacks)
    deliveries = list(Delivery.objects.filter(release=release))
    assert {d.store.code for d in deliveries} == {"alpha", "beta"}
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    assert release.status == ReleaseStatus.DELIVERED
    for delivery in deliveries:
        batch = drop_root / delivery.store.code / delivery.batch_id
        folder = batch / release.upc
        xml = (folder / f"{release.upc}.xml").read_bytes()
        assert validate_ern(xml, settings.DDEX_SCHEMA_DIR) == []
        root = etree.fromstring(xml)
        assert root.findtext("MessageHeader/MessageId") == delivery.message_id
        assert root.findtext("MessageHeader/MessageRecipient/PartyId") == delivery.store.dpid
        assert xml.decode() == delivery.message_xml
        resources = sorted(p.name for p in (folder / "resources").iterdir())
        assert resources == sorted(
            [f"{release.upc}.jpg", f"{release.upc}_01_001.wav", f"{release.upc}_01_002.wav"]
        )
        markers = [p for p in batch.iterdir() if p.is_file()]
        assert [m.name for m in markers] == [f"BatchComplete_{delivery.batch_id}.xml"]
        assert (
            max(p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file())
            <= markers[0].stat().st_mtime_ns
        )
        assert list(delivery.attempts.values_list("outcome", flat=True)) == ["delivered"]
    statuses = [
        e.data["to"]
        for e in Event.objects.filter(release_id=release.pk, type="release.status_changed")
    ]
    assert statuses[-3:] == ["approved", "delivering", "delivered"]


def test_acknowledgement_files_settle_deliveries(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    release = _approved(manager, stores, django_capture_on_commit_callbacks)
    alpha, beta = (Delivery.objects.get(release=release, store__code=c) for c in ("alpha", "beta"))
    for delivery, status, text in (
        (alpha, "SuccessfullyProcessed", ""),
        (beta, "ProcessingError", "Cover art is blurry"),
    ):
        ack_dir = drop_root / delivery.store.code / "ack"
        ack_dir.mkdir(parents=True, exist_ok=True)
        (ack_dir / f"ACK_{delivery.message_id}.xml").write_text(
            f"<Ack><MessageId>{delivery.message_id}</MessageId><Status>{status}</Status>"
            f"<ErrorText>{text}</ErrorText></Ack>"
        )
    (drop_root / "alpha" / "ack" / "garbage.xml").write_text("not xml at all")
    counts = acknowledgements_poll()
    assert counts == {"applied": 2, "unmatched": 0, "unreadable": 1, "errors": 0}
    alpha.refresh_from_db()
    beta.refresh_from_db()
    assert alpha.status == DeliveryStatus.ACKNOWLEDGED
    assert (beta.status, beta.store_message) == (DeliveryStatus.REJECTED, "Cover art is blurry")
    assert not [p for p in (drop_root / "alpha" / "ack").iterdir() if p.is_file()]  # archived
    assert acknowledgements_poll() == {"applied": 0, "unmatched": 0, "unreadable": 0, "errors": 0}
    retried = manager.client.post(f"/api/v1/deliveries/{beta.pk}/retry/")
    assert retried.status_code == 200
    assert retried.json()["id"] != str(beta.pk)  # a rejected message is resent as a new one


def test_a_duplicate_task_sends_once(
    manager: Caller,
    stores: list[Store],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    release = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(release=release)
    assert delivery_send(delivery_id=delivery.pk, task_id="duplicate") is None
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_transport_failure_is_kept_and_retry_recovers(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    drop_root.mkdir(parents=True)
    (drop_root / "alpha").write_text("a file where the store's folder should be")
    release = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(release=release)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error
    assert release.status == ReleaseStatus.DELIVERING
    (drop_root / "alpha").unlink()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.client.post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert list(delivery.attempts.values_list("outcome", flat=True)) == ["failed", "delivered"]
    again = manager.client.post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert again.status_code == 409


def test_invalid_release_fails_without_sending(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    release = submittable_release(manager.organization, tracks=1)
    _real_files(release)
    manager.client.put(
        f"/api/v1/releases/{release.pk}/stores/", {"stores": ["alpha"]}, format="json"
    )
    manager.client.post(f"/api/v1/releases/{release.pk}/submit/")
    Asset.objects.filter(track__release=release).update(superseded_at="2026-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        manager.client.post(f"/api/v1/releases/{release.pk}/approve/", {}, format="json")
    delivery = Delivery.objects.get(release=release)
    assert delivery.status == DeliveryStatus.FAILED
    assert "audio" in delivery.last_error.lower()
    assert not (drop_root / "alpha").exists()


def test_takedown_sends_messages_without_deals(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    release = _approved(manager, stores, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.client.post(f"/api/v1/releases/{release.pk}/takedown/")
    assert response.status_code == 200, response.content
    assert {d["kind"] for d in response.json()} == {"takedown"}
    release.refresh_from_db()
    assert release.status == ReleaseStatus.TAKEN_DOWN
    for delivery in Delivery.objects.filter(release=release, kind="takedown"):
        xml = delivery.message_xml.encode()
        assert validate_ern(xml, settings.DDEX_SCHEMA_DIR) == []
        assert b"DealList" not in xml


def test_preview_shows_the_exact_message_or_why_not(manager: Caller, stores: list[Store]) -> None:
    release = submittable_release(manager.organization, tracks=1)
    body = manager.client.get(f"/api/v1/releases/{release.pk}/preview/?store=alpha").json()
    assert body["valid"] is True
    assert validate_ern(body["xml"].encode(), settings.DDEX_SCHEMA_DIR) == []
    assert release.upc in body["xml"]
    Release.objects.filter(pk=release.pk).update(upc="")
    broken = manager.client.get(f"/api/v1/releases/{release.pk}/preview/?store=alpha").json()
    assert broken["valid"] is False
    assert broken["xml"] == ""
    assert any("UPC" in e or "upc" in e for e in broken["schema_errors"])
    assert manager.client.get(f"/api/v1/releases/{release.pk}/preview/").status_code == 400
    assert (
        manager.client.get(f"/api/v1/releases/{release.pk}/preview/?store=nope").status_code == 404
    )


def test_unknown_store_codes_are_refused_and_deliveries_are_tenant_scoped(
    manager: Caller,
    make_caller: MakeCaller,
    stores: list[Store],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    release = submittable_release(manager.organization, tracks=1)
    bad = manager.client.put(
        f"/api/v1/releases/{release.pk}/stores/", {"stores": ["alpha", "zeta"]}, format="json"
    )
    assert bad.status_code == 400
    assert manager.client.get(f"/api/v1/releases/{release.pk}/stores/").json() == {"stores": []}
    approved = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(release=approved)
    other = make_caller()
    assert other.client.get(f"/api/v1/deliveries/{delivery.pk}/").status_code == 404
    assert other.client.get("/api/v1/deliveries/").json()["count"] == 0
    listed = manager.client.get(
        f"/api/v1/deliveries/?release={approved.pk}&status=delivered"
    ).json()
    assert [d["id"] for d in listed["results"]] == [str(delivery.pk)]
    assert [s["code"] for s in manager.client.get("/api/v1/stores/").json()["results"]] == [
        "alpha",
        "beta",
    ]


def test_operator_commands(
    manager: Caller,
    stores: list[Store],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    release = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("deliveries", "redeliver", release.upc, stdout=out)
    assert "queued update to alpha" in out.getvalue()
    assert list(
        Delivery.objects.filter(release=release)
        .order_by("created_at")
        .values_list("kind", "status")
    ) == [("insert", "delivered"), ("update", "delivered")]
    history = StringIO()
    call_command("deliveries", "history", str(release.pk), stdout=history)
    assert history.getvalue().count("delivered") >= 2
    assert "attempt" in history.getvalue()
    with pytest.raises(CommandError, match="No release"):
        call_command("deliveries", "send", "0000", stdout=StringIO())
    with pytest.raises(CommandError, match="Unknown stores"):
        call_command("deliveries", "send", release.upc, "--store", "nope", stdout=StringIO())
    draft = submittable_release(manager.organization, tracks=1)
    with pytest.raises(CommandError, match="draft"):
        call_command("deliveries", "send", draft.upc, stdout=StringIO())
    delivered = Delivery.objects.filter(release=release).first()
    assert delivered is not None
    with pytest.raises(CommandError, match="Only failed"):
        call_command("deliveries", "retry", str(delivered.pk), stdout=StringIO())


def test_admin_lists_deliveries_and_retries_failed_ones(
    client,
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    from accounts.models import User

    drop_root.mkdir(parents=True)
    (drop_root / "alpha").write_text("blocks the folder")
    release = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(release=release)
    assert delivery.status == DeliveryStatus.FAILED
    (drop_root / "alpha").unlink()
    client.force_login(User.objects.create_superuser("ops@example.test", "pw-123456789"))
    page = client.get("/admin/distribution/delivery/?status__exact=failed").content.decode()
    assert release.title in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/distribution/delivery/",
            {"action": "retry_selected", "_selected_action": [delivery.pk]},
        )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    detail = client.get(f"/admin/distribution/delivery/{delivery.pk}/change/").content.decode()
    assert "delivered" in detail


def test_update_without_audio_and_purge_takedown(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    Store.objects.filter(code="beta").update(takedown_mode="purge")
    release = _approved(manager, stores, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.client.post(f"/api/v1/releases/{release.pk}/redeliver/")
    assert response.status_code == 200, response.content
    update = Delivery.objects.get(release=release, store__code="alpha", kind="update")
    assert update.status == DeliveryStatus.DELIVERED
    files = sorted(
        p.name for p in (drop_root / "alpha" / update.batch_id).rglob("*") if p.is_file()
    )
    assert f"{release.upc}.jpg" in files
    assert not [f for f in files if f.endswith(".wav")]  # the store keeps the audio it has
    with django_capture_on_commit_callbacks(execute=True):
        manager.client.post(f"/api/v1/releases/{release.pk}/takedown/")
    purge = Delivery.objects.get(release=release, store__code="beta", kind="takedown")
    assert purge.status == DeliveryStatus.DELIVERED
    assert "PurgeReleaseMessage" in purge.message_xml
    assert validate_ern(purge.message_xml.encode(), settings.DDEX_SCHEMA_DIR) == []
    no_deals = Delivery.objects.get(release=release, store__code="alpha", kind="takedown")
    assert "NewReleaseMessage" in no_deals.message_xml
    assert "DealList" not in no_deals.message_xml


def test_go_live_is_marked_once_on_the_release_date(
    manager: Caller,
    stores: list[Store],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    import datetime as dt

    from distribution.services.delivery import releases_mark_live

    release = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    assert release.release_date is not None
    assert releases_mark_live(today=release.release_date - dt.timedelta(days=1)) == 0
    assert releases_mark_live(today=release.release_date) == 1
    assert releases_mark_live(today=release.release_date) == 0
    release.refresh_from_db()
    assert release.went_live_at is not None
    assert Event.objects.filter(release_id=release.pk, type="release.live").count() == 1


def test_sync_schedules_is_idempotent() -> None:
    from io import StringIO

    from django.core.management import call_command
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from enterprise_suite.schedules import SCHEDULES

    every = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="distribution: obsolete job", task="x", interval=every)
    for _ in range(2):
        call_command("sync_schedules", stdout=StringIO())
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert names == {s.name for s in SCHEDULES}
    assert {t.task for t in PeriodicTask.objects.filter(name__in=names)} == {
        s.task for s in SCHEDULES
    }


def test_batch_mode_store_gets_one_batch_for_many_releases(
    manager: Caller,
    drop_root: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    from distribution.services.delivery import store_batches_due

    store = Store.objects.create(
        code="gamma", name="Gamma", dpid="PADPIDA0000000009G", transport=TransportKind.FILESYSTEM,
        delivery_mode="batch",
    )  # fmt: skip
    first = _approved(manager, [store], django_capture_on_commit_callbacks)
    second = _approved(manager, [store], django_capture_on_commit_callbacks)
    waiting = Delivery.objects.filter(store=store)
    assert {d.status for d in waiting} == {DeliveryStatus.QUEUED}  # nothing sent yet
    assert not (drop_root / "gamma").exists()
    assert store_batches_due() == 1
    assert store_batches_due() == 0  # all sent
    batch_ids = {d.batch_id for d in Delivery.objects.filter(store=store)}
    assert len(batch_ids) == 1
    batch = drop_root / "gamma" / batch_ids.pop()
    assert sorted(p.name for p in batch.iterdir() if p.is_dir()) == sorted([first.upc, second.upc])
    assert [p.name for p in batch.iterdir() if p.is_file()] == [f"BatchComplete_{batch.name}.xml"]
    assert {d.status for d in Delivery.objects.filter(store=store)} == {DeliveryStatus.DELIVERED}
    for release in (first, second):
        release.refresh_from_db()
        assert release.status == ReleaseStatus.DELIVERED


def test_a_missing_schema_fails_the_delivery_clearly_and_sends_nothing(
    manager: Caller,
    stores: list[Store],
    drop_root: Path,
    settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    settings.DDEX_SCHEMA_DIR = str(tmp_path / "no-schema-here")
    release = _approved(manager, stores[:1], django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(release=release)
    assert delivery.status == DeliveryStatus.FAILED
    assert "DDEX_SCHEMA_DIR" in delivery.last_error
    assert not (drop_root / "alpha").exists()
    preview = manager.client.get(f"/api/v1/releases/{release.pk}/preview/?store=alpha").json()
    assert preview["valid"] is False
    assert "DDEX_SCHEMA_DIR" in " ".join(preview["schema_errors"])


def test_preorder_date_becomes_a_preorder_deal(manager: Caller, stores: list[Store]) -> None:
    import datetime as dt

    release = submittable_release(manager.organization, tracks=1)
    assert release.release_date is not None
    url = f"/api/v1/releases/{release.pk}/"
    too_late = manager.client.patch(
        url, {"preorder_date": str(release.release_date)}, format="json"
    )
    assert too_late.status_code == 400
    assert "preorder_date" in too_late.json()["error"]["details"]
    opens = release.release_date - dt.timedelta(days=7)
    assert (
        manager.client.patch(url, {"preorder_date": str(opens)}, format="json").status_code == 200
    )
    body = manager.client.get(f"/api/v1/releases/{release.pk}/preview/?store=alpha").json()
    assert body["valid"] is True, body["schema_errors"]
    root = etree.fromstring(body["xml"].encode())
    starts = {d.text for d in root.iter("StartDate")}
    assert str(opens) in starts
    assert str(release.release_date) in starts


class _Recorder:
    """A live-stream member that keeps what it is sent, as a connected client would see it."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def stream_event(self, event_id: int, release_id: str | None, text: str) -> None:
        self.frames.append(json.loads(text))


@pytest.mark.django_db(transaction=True)
def test_live_stream_sees_the_release_status_before_its_deliveries_move(
    manager: Caller,
    stores: list[Store],
    settings,  # type: ignore[no-untyped-def]
) -> None:
    """Embedded profile (eager tasks run inside the approval's commit hooks): a client must
    still see approved -> queued -> delivering before any delivery starts packaging."""
    settings.REDIS_URL = ""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    recorder = _Recorder()

    async def join() -> None:
        await stream.hub().join(manager.organization.pk, recorder)

    asyncio.run_coroutine_threadsafe(join(), loop).result(timeout=5)
    try:
        # Real commits, so commit hooks run as they do in the embedded server.
        release = _approved(manager, stores, lambda **_: contextlib.nullcontext())
        events = Event.objects.filter(organization=manager.organization).order_by("id")
        expected = list(events.values_list("id", flat=True))
        deadline = time.monotonic() + 5
        while len(recorder.frames) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
    received = [(f["type"], f["data"]["to"]) for f in recorder.frames]
    assert [f["id"] for f in recorder.frames] == expected  # all of them, in order
    delivering = received.index(("release.status_changed", "delivering"))
    first_packaging = received.index(("delivery.status_changed", "packaging"))
    assert delivering < first_packaging
    assert received[-1] == ("release.status_changed", "delivered")
    assert release.status == ReleaseStatus.DELIVERED
