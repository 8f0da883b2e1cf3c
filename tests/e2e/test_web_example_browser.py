"""examples/web in headless Chromium, served from another origin than the gateway: its client, generated from
protos/ and speaking gRPC-Web, registers, logs in, adds a cigar, shows a refused one, and lists the collection."""

from __future__ import annotations

import functools
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import Running
from tests.e2e.test_swagger_ui_browser import browser  # noqa: F401 (the same headless Chromium fixture)

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "examples" / "web"


@pytest.fixture(scope="module")
def built() -> Path:
    """`make web-example` as a user runs it: npm ci, the generated client, tsc, the bundle (seconds when current)."""
    result = subprocess.run(["make", "-s", "web-example"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (WEB / "dist" / "app.js").is_file()
    return WEB


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture
def page_origin(built: Path) -> Iterator[str]:
    """examples/web as any static file server would serve it, on localhost: another origin than 127.0.0.1:<gateway>."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def status_after(driver: webdriver.Chrome, click: str, expected_start: str) -> str:
    """Click `click`, then wait until the status line has moved on to something starting with `expected_start`."""
    status = driver.find_element(By.ID, "status")
    driver.execute_script("arguments[0].textContent = ''", status)
    driver.find_element(By.ID, click).click()
    WebDriverWait(driver, 15).until(lambda _: status.text not in ("", "…"))
    assert status.text.startswith(expected_start), status.text
    return status.text


def fill(driver: webdriver.Chrome, **fields: str) -> None:
    for name, text in fields.items():
        box = driver.find_element(By.ID, name)
        box.clear()
        box.send_keys(text)


@pytest.mark.parametrize("running", ["sqlite"], indirect=True)  # the page is the same on any database
def test_the_page_registers_logs_in_adds_and_lists_cigars_over_grpc_web(
    running: Running,
    browser: webdriver.Chrome,  # noqa: F811 (the fixture imported above)
    page_origin: str,
) -> None:
    name = f"web_{uuid.uuid4().hex[:8]}"
    browser.get(f"{page_origin}/index.html?gateway={running.url}")
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "status").text == "ready")
    assert browser.find_element(By.ID, "gateway").text == running.url

    fill(browser, username=name, email=f"{name}@example.com", password="testpassword")
    assert status_after(browser, "register", "registered ").startswith(f"registered {name} (id ")
    assert status_after(browser, "login", "logged in as ") == f"logged in as {name}"
    assert browser.find_element(By.ID, "who").text == name
    assert browser.find_elements(By.CSS_SELECTOR, "#cigars li") == []

    fill(browser, name="Robusto", brand="Padron", rating="4")
    assert status_after(browser, "add", "added Robusto (id ")
    fill(browser, name="Too good", brand="Padron", rating="11")
    refused = status_after(browser, "add", "InvalidArgument: ")
    assert "rating" in refused
    assert browser.find_element(By.ID, "status").get_attribute("data-state") == "error"
    assert status_after(browser, "refresh", "1 cigar(s)")
    shown = [(li.get_attribute("data-id"), li.text) for li in browser.find_elements(By.CSS_SELECTOR, "#cigars li")]

    # what the page shows is what the collection holds, read over REST
    with httpx.Client(base_url=running.url, timeout=10) as http:
        token = http.post("/token", data={"username": name, "password": "testpassword"}).json()["access_token"]
        mine = http.get("/users/me/", headers={"Authorization": f"Bearer {token}"}).json()["cigars"]
    assert shown == [(str(c["id"]), f"{c['name']} ({c['brand']}), rated {c['rating']}") for c in mine]
    assert [c["name"] for c in mine] == ["Robusto"]

    # and it went over gRPC-Web, cross-origin: the browser's own record of the requests it made
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert f"{running.url}/cigar.auth.v1.AuthService/Token" in fetched
    assert f"{running.url}/cigar.collection.v1.CollectionService/CreateCigar" in fetched
    assert not page_origin.startswith(running.url)
