"""/docs in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which `.ci/run`
installs), against uvicorn on loopback, with every other host unresolvable: Swagger UI's assets
come from the app, the operations render, and "Try it out" → Execute on a predict returns 200."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.fixtures.servers import start_server

# Debian's paths unless the environment names another Chrome (GitHub's runners ship their own).
CHROMIUM = Path(os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver (make test-tools does)"
WAIT_SECONDS = 60
PREDICT_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def docs_server(demo_dataset_dir: Path) -> Iterator[str]:
    with start_server(demo_dataset_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    assert not missing, f"{missing} not installed: {INSTALL}"
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        # No internet, as on a closed network: every name but the loopback fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _requested_urls(driver: webdriver.Chrome) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _elsewhere(urls: list[str], server: str) -> list[str]:
    """Network requests to anywhere but the server (the browser's own chrome:// pages aside)."""
    network = ("http:", "https:", "ws:", "wss:")
    return [url for url in urls if url.startswith(network) and not url.startswith(server)]


def _wait(driver: webdriver.Chrome, seconds: float = WAIT_SECONDS) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def _operation(driver: webdriver.Chrome, path: str) -> WebElement:
    selector = f".opblock-summary-path[data-path='{path}']"
    summary = _wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector)))
    block = summary.find_element(By.XPATH, "./ancestor::div[contains(@class, 'opblock ')]")
    summary.click()
    return block


def test_swagger_ui_renders_every_operation_offline(
    browser: webdriver.Chrome, docs_server: str
) -> None:
    browser.get(f"{docs_server}/docs")
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    paths = json.loads(browser.execute_script("return JSON.stringify(ui.specSelectors.specJson())"))
    operations = sum(
        method in {"get", "post"} for methods in paths["paths"].values() for method in methods
    )
    rendered = browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert len(rendered) == operations > 20
    shown = {block.get_attribute("data-path") for block in browser.find_elements(
        By.CSS_SELECTOR, ".opblock-summary-path")}  # fmt: skip
    assert {"/twolvlImp/predict", "/survey/clustering", "/jobs", "/params"} <= shown
    urls = _requested_urls(browser)
    assert f"{docs_server}/static-offline-docs/swagger-ui-bundle.js" in urls
    assert _elsewhere(urls, docs_server) == []


def test_try_it_out_on_a_predict_returns_200(
    browser: webdriver.Chrome, docs_server: str, manual_request: dict[str, Any]
) -> None:
    browser.get(f"{docs_server}/docs")
    block = _operation(browser, "/twolvlImp/predict")
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    editor = _wait(browser).until(
        lambda _: block.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
    )
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    # The body arrives as one text input, as a paste does: typed key by key, Swagger UI renders
    # again on every key (15 s for this body on 2 cores).
    browser.execute_cdp_cmd("Input.insertText", {"text": json.dumps(manual_request)})
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = _wait(browser, PREDICT_TIMEOUT_SECONDS).until(
        lambda _: block.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    assert status.text.strip() == "200"
    answer = block.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    assert '"prediction"' in answer and '"indicatorJson"' in answer
    # Trained on the body entered, not on the example's predictors.
    names = json.loads(answer)["model_feature_names"]
    assert sorted(names) == sorted(manual_request["manual_predictors"])
    assert _elsewhere(_requested_urls(browser), docs_server) == []
