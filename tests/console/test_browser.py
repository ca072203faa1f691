"""The console in a real browser: Debian's headless Chromium driven by Selenium.

Each test saves a screenshot of the page it reached: into ``docs/screenshots/`` (the README
shows them) when ``SYNCWRIGHT_UPDATE_SCREENSHOTS=1``, else into a temporary directory, so an
ordinary test run never rewrites tracked files. Chromium and chromedriver come from Debian's
packages: ``make test`` runs ``scripts/ensure-chromium.sh`` first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import ConsoleWorld

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("SYNCWRIGHT_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "syncwright-screenshots"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1360,900",
)
# Generous: the machine running the tests may be busy; nothing here measures time.
WAIT_SECONDS = 60


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: run `bash scripts/ensure-chromium.sh` (make test does)"
        )
    return found


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="sw-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(_binary("chromedriver"))
    )
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    return WebDriverWait(driver, WAIT_SECONDS)


def _screenshot(driver: webdriver.Chrome, name: str) -> None:
    """The whole page, not only the window: the viewport is stretched to the document."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics["cssContentSize"]["height"])
    override = {"width": 1360, "height": max(640, height), "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", override)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        assert driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _sign_in(driver: webdriver.Chrome, url: str, token: str, *, shoot: bool = False) -> None:
    driver.get(f"{url}/exceptions")  # a page behind the sign-in: it sends us there, then back
    _wait(driver).until(ec.presence_of_element_located((By.ID, "token")))
    assert "/sign-in?next=/exceptions" in driver.current_url
    if shoot:
        _screenshot(driver, "sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button.primary").click()
    _wait(driver).until(ec.url_contains("/exceptions"))
    _wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "header .who")))


def _open_exception_ids(cw: ConsoleWorld) -> list[str]:
    runtime = cw.world.billing.runtime
    assert runtime is not None
    found = [r.id for r in runtime.exceptions.list(status="open")]
    assert found, "the parked deals' exceptions should be open"
    return found


def test_a_viewer_sees_exceptions_but_may_not_retry_them(
    console_world: ConsoleWorld, browser: webdriver.Chrome
) -> None:
    record_id = _open_exception_ids(console_world)[0]
    _sign_in(browser, console_world.url, console_world.viewer_token)
    assert browser.find_element(By.CSS_SELECTOR, ".who .role").text == "viewer"
    browser.find_element(By.CSS_SELECTOR, f'input[name="ids"][value="{record_id}"]').click()
    browser.find_element(By.CSS_SELECTOR, 'button[value="retry"]').click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Not allowed"))
    assert "needs the operator role" in browser.find_element(By.TAG_NAME, "main").text
    _screenshot(browser, "refused-viewer")
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    record = runtime.exceptions.get(record_id)
    assert record is not None and record.status == "open" and record.retries == 0


def test_an_operator_signs_in_reads_the_overview_traces_and_retries(
    console_world: ConsoleWorld, browser: webdriver.Chrome
) -> None:
    url = console_world.url
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    open_ids = _open_exception_ids(console_world)
    record_id = open_ids[0]
    _sign_in(browser, url, console_world.operator_token, shoot=True)

    # Overview: the business figures name the parked deal; charts are drawn.
    browser.get(f"{url}/")
    cards = {
        card.find_element(By.CLASS_NAME, "label").text: card.find_element(
            By.CLASS_NAME, "value"
        ).text
        for card in browser.find_elements(By.CSS_SELECTOR, ".card.figure")
    }
    assert cards["Orders awaiting ERP validation"] == str(len(open_ids))
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    _screenshot(browser, "overview")

    # Trace: search a deal's correlation id; htmx swaps the timeline in.
    account_id = runtime.xref.global_id_for("account", "salesforce", console_world.deals[0].account)
    correlation = next(
        e.correlation_id
        for e in runtime.ledger.for_entity(f"account:{account_id}")
        if e.workflow == "deal.onboard"
    )
    browser.get(f"{url}/trace")
    browser.find_element(By.ID, "q").send_keys(correlation)
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.timeline")))
    assert correlation in browser.current_url  # the search is in the address bar (shareable)
    steps = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.timeline .step-name")]
    assert any(s.startswith("validate.master_data") for s in steps)
    systems = {e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.timeline .system")}
    assert {"netsuite", "stripe", "salesforce", "zendesk"} <= systems
    _screenshot(browser, "trace")

    # Exceptions: the rep fixes the account in the CRM, the operator retries in the console.
    for deal in console_world.parked_deals:
        console_world.world.sdk().update("Account", deal.account, {"BillingCountry": "US"})
    browser.get(f"{url}/exceptions")
    _screenshot(browser, "exceptions")
    browser.find_element(By.CSS_SELECTOR, f'input[name="ids"][value="{record_id}"]').click()
    browser.find_element(By.CSS_SELECTOR, 'button[value="retry"]').click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok")))
    assert record_id in browser.find_element(By.CSS_SELECTOR, ".flash.ok").text
    deadline = time.monotonic() + 120
    while True:
        record = runtime.exceptions.get(record_id)
        assert record is not None
        if record.status == "resolved":
            break
        assert time.monotonic() < deadline, f"the retried run did not finish: {record.status}"
        time.sleep(0.2)
    assert record.retries == 1

    browser.get(f"{url}/exceptions/{record_id}")
    assert "resolved" in browser.find_element(By.CSS_SELECTOR, ".page-head .badge").text
    for page in ("connections", "reconciliation"):
        browser.get(f"{url}/{page}")
        _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "main .card")))
        _screenshot(browser, page)
