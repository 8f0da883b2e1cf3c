"""The whole stack as real processes (both services and Envoy) on free ports, per database engine."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scripts.run_postgres import NAMES, postgres_urls
from scripts.stack import Stack, StackConfig
from scripts.stack import running as running_stack
from tests.conftest import BACKENDS, MANY_REGISTRATIONS, PG_ADMIN_URL, Databases, database_url, free_port
from tests.e2e.error_shape import HOOKS


@dataclass
class Running:
    backend: str
    stack: Stack

    @property
    def url(self) -> str:
        return self.stack.base_url

    @property
    def auth_addr(self) -> str:
        return f"127.0.0.1:{self.stack.config.auth_port}"

    @property
    def collection_addr(self) -> str:
        return f"127.0.0.1:{self.stack.config.collection_port}"

    @property
    def log_path(self) -> Path:
        """Both services' JSON log lines (and Envoy's warnings), as the processes wrote them."""
        return self.stack.config.var_dir / "stack.log"

    def metrics_url(self, service: str) -> str:
        """auth's, collection's /metrics, or envoy's stats (its listener for scrapers, beside the admin)."""
        port = getattr(self.stack.config, f"{service}_metrics_port")
        return f"http://127.0.0.1:{port}/{'stats/prometheus' if service == 'envoy' else 'metrics'}"


@pytest.fixture(scope="session", params=BACKENDS)
async def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[Running]:
    backend = request.param
    if external := os.environ.get("CIGAR_E2E_STACK"):
        # scripts/measure_stack.py runs the suite against a stack it started and watches: {"backend", ports...}.
        given = json.loads(external)
        if given.pop("backend") != backend:
            pytest.skip(f"CIGAR_E2E_STACK runs on another backend than {backend}")
        given["var_dir"] = Path(given["var_dir"])  # where its stack.log is
        yield Running(backend, Stack(StackConfig(**given)))
        return
    var = tmp_path_factory.mktemp(f"e2e-{backend}")
    if backend == "postgres":
        # The `make run-postgres` path: one database per service, created by the same code.
        names = {setting: f"cigar_e2e_{uuid.uuid4().hex[:10]}" for setting in NAMES}
        pg_databases.created.extend(names.values())
        urls = await postgres_urls(PG_ADMIN_URL, names)
    else:
        urls = {
            setting: await database_url(backend, setting.split("_")[0].lower(), var, pg_databases) for setting in NAMES
        }
    config = StackConfig.on_free_ports(
        var,
        auth_metrics_port=free_port(),
        collection_metrics_port=free_port(),
        envoy_metrics_port=free_port(),
        auth_database_url=urls["AUTH_DATABASE_URL"],
        collection_database_url=urls["COLLECTION_DATABASE_URL"],
        extra_env={"AUTH_LOG_FORMAT": "json", "COLLECTION_LOG_FORMAT": "json", **MANY_REGISTRATIONS},
    )
    log_path = var / "stack.log"
    with running_stack(config, log_path) as stack:
        yield Running(backend, stack)
    if request.session.testsfailed:
        print(f"--- stack log ({backend}) ---\n{log_path.read_text()[-5000:]}")


@pytest.fixture
def http(running: Running) -> Iterator[httpx.Client]:
    # every error answer any test provokes is checked against the document's Error schema (error_shape.py)
    with httpx.Client(base_url=running.url, timeout=10, event_hooks=HOOKS) as client:
        yield client


class Frontend:
    """What a frontend of the seed does, byte for byte: JSON bodies, form-encoded login, bearer header."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def register(self, username: str | None = None, password: str = "testpassword") -> tuple[httpx.Response, str]:
        username = username or f"fe_{uuid.uuid4().hex[:8]}"
        body = {"username": username, "email": f"{username}@example.com", "password": password}
        return self.client.post("/users/", json=body), username

    def login(self, username: str, password: str = "testpassword") -> httpx.Response:
        form = f"grant_type=&username={username}&password={password}&scope=&client_id=&client_secret="
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.client.post("/token", content=form, headers=headers)

    def token_for_new_user(self) -> tuple[int, str]:
        response, username = self.register()
        return response.json()["id"], self.login(username).json()["access_token"]


@pytest.fixture
def frontend(http: httpx.Client) -> Frontend:
    return Frontend(http)
