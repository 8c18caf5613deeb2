"""QC staff's day in the admin panel, in a real headless Chromium against a real daphne and a
real Celery worker on PostgreSQL and Redis.

A reviewer signs in, opens the live delivery monitor, approves a release from the QC queue in
another tab, and watches its two deliveries move on the monitor (queued ... delivered, then
acknowledged by one store and rejected by the other through signed inbound webhooks) without
the page reloading; checks the release page and an ERN preview; rejects another release with a
reason. A viewer then sees the queue without the review actions, and a forged approval is
refused. Screenshots of the key pages go to var/artifacts/screenshots/ (CI keeps them).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.utils import timezone

from accounts.models import Organization, User
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from conftest import ROOT, RunningProcess
from distribution.choices import DeliveryStatus, ReleaseStatus, TransportKind
from distribution.models import Delivery, Release, ReleaseStore, Store
from distribution.services.review import release_submit
from distribution.tests.workflow_fixtures import store_real_files, submittable_release
from realtime.inbound import signature_for, webhook_secret_env_name
from realtime.models import Event

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = ROOT / "var" / "artifacts" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "pw-correct-horse-9"
STORES = {"wave-one": "Wave One", "wave-two": "Wave Two"}
WAIT = 45  # seconds any one thing may take; a healthy run needs one or two

# --- the browser ---------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium driven by its chromedriver through Selenium."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = (
            "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _wait(driver: Any, condition: Any, what: str) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(condition)
    except TimeoutException:
        driver.save_screenshot(str(SCREENSHOTS / "failure.png"))
        states = list(Delivery.objects.values_list("store__code", "status", "last_error"))
        pytest.fail(f"timed out waiting for {what}; deliveries: {states}")


def _css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _shot(driver: Any, name: str) -> None:
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _log_in(driver: Any, base: str, email: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/admin/login/")
    _css(driver, "#id_username")[0].send_keys(email)
    _css(driver, "#id_password")[0].send_keys(PASSWORD)
    _css(driver, "#login-form input[type=submit]")[0].click()
    _wait(driver, lambda d: "/admin/login/" not in d.current_url, f"{email} to be signed in")


def _run_action(driver: Any, release: Release, action: str) -> None:
    from selenium.webdriver.support.ui import Select

    _css(driver, f"input[name=_selected_action][value='{release.pk}']")[0].click()
    Select(_css(driver, "select[name=action]")[0]).select_by_value(action)
    _css(driver, "button[name=index]")[0].click()


# --- the world: stores, people, releases ----------------------------------------------------


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> dict[str, Store]:
    """Two folder stores that acknowledge by signed webhook; their drop folder and secrets are
    in the environment before the server and the worker start."""
    root = tmp_path / "stores"
    settings.STORE_DROP_ROOT = str(root)
    monkeypatch.setenv("STORE_DROP_ROOT", str(root))
    for code in STORES:
        monkeypatch.setenv(webhook_secret_env_name(code), f"whsec-{code}")
    return {
        code: Store.objects.create(
            code=code, name=name, dpid="PADPIDA0000000009X", transport=TransportKind.FILESYSTEM
        )
        for code, name in STORES.items()
    }


@pytest.fixture
def live(stores: dict[str, Store], request: pytest.FixtureRequest) -> str:
    """A real worker and a real daphne (started after `stores` set the environment)."""
    request.getfixturevalue("celery_worker_process")
    server: RunningProcess = request.getfixturevalue("daphne_server")
    return f"http://127.0.0.1:{server.port}"


def _staff(organization: Organization, role: str) -> User:
    user = User.objects.create_user(f"{role}@nightfall.test", PASSWORD, is_staff=True)
    MembershipFactory(organization=organization, user=user, role=role)
    return user


def _submitted(organization: Organization, title: str, stores: list[Store], age: int) -> Release:
    release = submittable_release(organization, tracks=2)
    Release.objects.filter(pk=release.pk).update(title=title)
    release.refresh_from_db()
    store_real_files(release)
    for store in stores:
        ReleaseStore.objects.create(release=release, store=store)
    release_submit(release=release, actor=None)
    # Older submissions come first in the queue.
    Release.objects.filter(pk=release.pk).update(
        submitted_at=timezone.now() - timezone.timedelta(hours=age)
    )
    return Release.objects.get(pk=release.pk)


def _acknowledge(base: str, delivery: Delivery, status: str, text: str) -> None:
    """The store's signed webhook, as a store's server sends it."""
    body = json.dumps(
        {
            "message_id": f"ack-{delivery.pk}",
            "acknowledges": delivery.message_id,
            "status": status,
            "text": text,
        }
    ).encode()
    stamp = str(int(time.time()))
    response = httpx.post(
        f"{base}/api/v1/inbound/{delivery.store.code}/",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Store-Timestamp": stamp,
            "X-Store-Signature": signature_for(
                secret=f"whsec-{delivery.store.code}", timestamp=stamp, body=body
            ),
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text


# Records, per delivery row, every status the monitor showed, to prove the page moved live.
WATCH_ROWS = """
window.esSeen = {};
window.esSamePage = "not reloaded";
const record = () => document.querySelectorAll("#es-monitor tr[data-delivery]").forEach((row) => {
  const seen = (window.esSeen[row.dataset.delivery] = window.esSeen[row.dataset.delivery] || []);
  if (seen[seen.length - 1] !== row.dataset.status) { seen.push(row.dataset.status); }
});
new MutationObserver(record).observe(document.getElementById("es-monitor"),
  {subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"]});
record();
"""


def test_qc_staff_work_in_a_real_browser(
    live: str, browser: Any, stores: dict[str, Store], ddex_schema_dir: Path, tmp_path: Path
) -> None:
    base, driver = live, browser
    organization = OrganizationFactory(name="Nightfall Records")
    reviewer = _staff(organization, "qc_reviewer")
    _staff(organization, "viewer")
    both = list(stores.values())
    approve_me = _submitted(organization, "Northern Lights", both, age=5)
    reject_me = _submitted(organization, "Blurry Cover", both, age=3)
    waiting = _submitted(organization, "Waiting Room", both, age=1)

    # 1. The reviewer signs in and opens the live monitor: the stream is open, nothing yet.
    driver.get(f"{base}/admin/login/")
    _shot(driver, "01-login")
    _log_in(driver, base, reviewer.email)
    driver.get(f"{base}/admin/distribution/delivery/monitor/")
    _wait(
        driver,
        lambda d: _css(d, "#es-monitor-state[data-state=open]"),
        "the monitor's WebSocket to open",
    )
    driver.execute_script(WATCH_ROWS)
    monitor_tab = driver.current_window_handle

    # 2. In another tab, the QC queue: oldest first, artwork and findings; approve one.
    driver.switch_to.new_window("tab")
    driver.get(f"{base}/admin/distribution/releaseinreview/")
    page = driver.page_source
    assert page.index("Northern Lights") < page.index("Blurry Cover") < page.index("Waiting Room")
    _shot(driver, "02-qc-queue")
    driver.get(f"{base}/admin/distribution/releaseinreview/{approve_me.pk}/change/")
    assert "WAV 16 bit 44100 Hz 2 ch" in driver.page_source
    assert "No findings." in driver.page_source
    _shot(driver, "03-qc-release")
    driver.get(f"{base}/admin/distribution/releaseinreview/")
    _run_action(driver, approve_me, "approve_selected")
    _wait(
        driver,
        lambda d: "Approved: Northern Lights" in d.page_source,
        "the approval to be reported",
    )

    # 3. Back on the monitor (never reloaded): both deliveries appear and reach `delivered`.
    driver.switch_to.window(monitor_tab)

    def statuses(d: Any) -> dict[str, str]:
        return {
            row.find_element("css selector", ".es-store").text: row.get_attribute("data-status")
            for row in _css(d, "#es-monitor tr[data-delivery]")
        }

    _wait(
        driver,
        lambda d: statuses(d) == {"Wave One": "delivered", "Wave Two": "delivered"},
        "both deliveries to show as delivered on the monitor",
    )
    _shot(driver, "04-monitor-delivered")

    # 4. The stores answer: one accepts, one rejects with a reason; the rows follow live.
    deliveries = {d.store.code: d for d in Delivery.objects.filter(release=approve_me)}
    _acknowledge(base, deliveries["wave-one"], "accepted", "Ingested; live on release date.")
    _acknowledge(base, deliveries["wave-two"], "rejected", "Cover art contains a URL.")
    _wait(
        driver,
        lambda d: statuses(d) == {"Wave One": "acknowledged", "Wave Two": "rejected"},
        "the acknowledgements to show on the monitor",
    )
    page = driver.page_source
    assert "Ingested; live on release date." in page
    assert "Cover art contains a URL." in page
    _shot(driver, "05-monitor-acknowledged")
    assert driver.execute_script("return window.esSamePage") == "not reloaded"
    seen = driver.execute_script("return window.esSeen")
    by_store = {d.store.code: seen[str(d.pk)] for d in deliveries.values()}
    # Each row was seen moving live, from before delivery to the store's verdict.
    assert by_store["wave-one"][-2:] == ["delivered", "acknowledged"]
    assert by_store["wave-two"][-2:] == ["delivered", "rejected"]
    assert Delivery.objects.get(pk=deliveries["wave-one"].pk).status == DeliveryStatus.ACKNOWLEDGED

    # 5. The release page: deliveries per store with badges, errors and the stores' texts.
    driver.switch_to.new_window("tab")
    driver.get(f"{base}/admin/distribution/release/{approve_me.pk}/change/")
    panel = _css(driver, ".es-deliveries")[0].text
    assert "Wave One" in panel and "acknowledged" in panel.lower()
    assert "Cover art contains a URL." in panel
    assert not _css(driver, "#es-redeliver")  # a qc_reviewer does not send deliveries
    _shot(driver, "06-release-deliveries")
    _css(driver, "a.es-preview")[0].click()
    _wait(driver, lambda d: _css(d, "#es-ern-xml"), "the ERN preview")
    assert "NewReleaseMessage" in _css(driver, "#es-ern-xml")[0].text
    assert _css(driver, ".es-preview-valid")
    _shot(driver, "07-ern-preview")

    # 6. Reject another with a reason.
    driver.get(f"{base}/admin/distribution/releaseinreview/")
    _run_action(driver, reject_me, "reject_selected")
    _wait(driver, lambda d: _css(d, "#id_reason"), "the reason form")
    _css(driver, "#id_reason")[0].send_keys("The cover is blurry: upload a sharp 3000x3000 image.")
    _shot(driver, "08-reject-reason")
    _css(driver, "form input[type=submit][value=Reject]")[0].click()
    _wait(driver, lambda d: "Rejected: Blurry Cover" in d.page_source, "the rejection")
    reject_me.refresh_from_db()
    assert reject_me.status == ReleaseStatus.REJECTED
    assert reject_me.review_note == "The cover is blurry: upload a sharp 3000x3000 image."
    reviews = Event.objects.filter(type="release.status_changed", actor_id=reviewer.pk)
    assert sorted(e.data["to"] for e in reviews) == ["approved", "rejected"]

    # 7. A viewer sees the queue but is offered no review action, and a forged one is refused.
    for handle in driver.window_handles[1:]:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(driver.window_handles[0])
    _log_in(driver, base, "viewer@nightfall.test")
    driver.get(f"{base}/admin/distribution/releaseinreview/")
    assert "Waiting Room" in driver.page_source
    assert "approve_selected" not in driver.page_source
    _shot(driver, "09-viewer-qc-queue")
    forged = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const token = document.querySelector("[name=csrfmiddlewaretoken]")
          || {value: document.cookie.replace(/.*csrftoken=([^;]*).*/, "$1")};
        const form = new URLSearchParams({csrfmiddlewaretoken: token.value,
          action: "approve_selected", _selected_action: arguments[0], index: "0"});
        fetch(window.location.pathname, {method: "POST", body: form, credentials: "same-origin"})
          .then((r) => done(r.status));
        """,
        str(waiting.pk),
    )
    assert forged == 200  # the queue again, nothing done
    waiting.refresh_from_db()
    assert waiting.status == ReleaseStatus.SUBMITTED
    assert not Event.objects.filter(release_id=waiting.pk, data__to="approved").exists()
    driver.get(f"{base}/admin/distribution/release/{approve_me.pk}/change/")
    assert not _css(driver, "#es-redeliver") and not _css(driver, "#es-takedown")

    # 8. Royalties: the viewer sees a sales report's import outcome, with its bad lines by
    # number, and the statements page.
    from royalties.services.reports import sales_report_import, sales_report_upload_path_file
    from royalties.tests import files
    from royalties.tests.files import Sale

    report_file = tmp_path / "sales-2026-10.csv"
    report_file.write_bytes(
        files.canonical([Sale("USXYZ2600001", "", "DE", "stream", 3, "1", "0.25")]) + b"bad,line\n"
    )
    report = sales_report_upload_path_file(
        organization=organization, path=report_file, store_code="spotify", enqueue=False
    )
    sales_report_import(report_id=report.pk)
    driver.get(f"{base}/admin/royalties/salesreport/")
    _wait(driver, lambda d: "sales-2026-10.csv" in d.page_source, "the sales report listed")
    driver.get(f"{base}/admin/royalties/salesreport/{report.pk}/change/")
    assert "line 3: expected 10 fields, found 2" in driver.page_source
    _shot(driver, "10-sales-report")
    driver.get(f"{base}/admin/royalties/statement/")
    assert "Select statement to view" in driver.page_source
    _shot(driver, "11-statements")
