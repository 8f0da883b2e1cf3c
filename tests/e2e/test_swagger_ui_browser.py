"""A real browser (headless Chromium) opens /docs, sees every documented operation and runs "Try it out"."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import Running

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "gateway" / "generated" / "openapi.json").read_text())
# chromium and chromium-driver are Debian packages that `make test` installs (make test-deps)
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1700"]  # fmt: skip
# Set CIGAR_UPDATE_SCREENSHOT=1 (make docs-screenshot) to refresh the pictures in docs/ (docs/api.md shows them).
README_SHOTS = ROOT / "docs"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for downloads
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.parametrize("running", ["sqlite"], indirect=True)  # the page is the same on any database
def test_docs_shows_every_operation_and_try_it_out_lists_cigars(
    running: Running, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    with httpx.Client(base_url=running.url, timeout=10) as http:
        name = "swagger_ui_demo"
        http.post("/users/", json={"username": name, "email": f"{name}@example.com", "password": "testpassword"})
        token = http.post("/token", data={"username": name, "password": "testpassword"}).json()["access_token"]
        cigar = {"name": "Hemingway Short Story", "brand": "Arturo Fuente", "origin": "Dominican Republic",
                 "flavor_notes": "Cedar, cream, pepper", "rating": 5}  # fmt: skip
        http.post("/cigars/", json=cigar, headers={"Authorization": f"Bearer {token}"}).raise_for_status()

    browser.get(f"{running.url}/docs")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 1)
    shown = {
        (block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.lower(),
         block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"))
        for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
    }  # fmt: skip
    assert shown == {(verb, path) for path, item in DOC["paths"].items() for verb in item}
    shots = {"swagger.png": browser.get_screenshot_as_png()}  # the overview, for docs/api.md

    block = browser.find_element(By.ID, "operations-CollectionService-ListCigars")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#operations-CollectionService-ListCigars .try-out__btn")))
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    live = "#operations-CollectionService-ListCigars .live-responses-table tbody"
    status = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"{live} .response-col_status")))
    assert status.text.strip() == "200"
    body = browser.find_element(By.CSS_SELECTOR, f"{live} .microlight").text
    with httpx.Client(base_url=running.url, timeout=10) as http:
        assert json.loads(body) == http.get("/cigars/", params={"skip": 0, "limit": 10}).json()

    browser.execute_script("arguments[0].scrollIntoView()", block)
    shots["swagger-try-it-out.png"] = browser.get_screenshot_as_png()
    for name, png in shots.items():
        assert png.startswith(b"\x89PNG")
        (tmp_path / name).write_bytes(png)
        if os.environ.get("CIGAR_UPDATE_SCREENSHOT"):
            README_SHOTS.mkdir(exist_ok=True)
            (README_SHOTS / name).write_bytes(png)


@pytest.mark.parametrize("running", ["sqlite"], indirect=True)
def test_authorize_logs_in_through_token_and_try_it_out_then_reads_the_profile(
    running: Running, browser: webdriver.Chrome
) -> None:
    name = f"swagger_{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=running.url, timeout=10) as http:
        body = {"username": name, "email": f"{name}@example.com", "password": "testpassword"}
        http.post("/users/", json=body).raise_for_status()

    browser.get(f"{running.url}/docs")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".auth-wrapper .authorize"))).click()
    wait.until(ec.visibility_of_element_located((By.ID, "oauth_username"))).send_keys(name)
    browser.find_element(By.ID, "oauth_password").send_keys("testpassword")
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .authorize").click()
    wait.until(lambda d: "Logout" in d.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper").text)
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .close-modal").click()

    block = browser.find_element(By.ID, "operations-AuthService-GetMe")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#operations-AuthService-GetMe .try-out__btn"))).click()
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    live = "#operations-AuthService-GetMe .live-responses-table tbody"
    status = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"{live} .response-col_status")))
    assert status.text.strip() == "200"
    assert json.loads(browser.find_element(By.CSS_SELECTOR, f"{live} .microlight").text)["username"] == name
