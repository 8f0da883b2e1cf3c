"""The whole stack on a throwaway PostgreSQL cluster, with handles to kill, restart and measure each part."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import pytest

from scripts.stack import ROOT, Stack, StackConfig, prepare, start, wait_grpc_serving
from tests.conftest import MANY_REGISTRATIONS, free_port
from tests.reliability.pgcluster import ThrowawayPostgres

PASSWORD = "reliable-password"
# Every client here is 127.0.0.1, and the fuzzers fail hundreds of logins: with brute-force throttling on,
# the address would be locked for the rest of the run. Throttling has its own tests (tests/e2e, integration).
NO_THROTTLING = {
    **MANY_REGISTRATIONS,
    "TOKEN_RATE_LIMIT_BURST": "1000000",
    "AUTH_THROTTLE_DELAY_STEP_SECONDS": "0",
    "AUTH_THROTTLE_PAIR_LOCK_AFTER": "1000000",
    "AUTH_THROTTLE_ACCOUNT_LOCK_AFTER": "1000000",
    "AUTH_THROTTLE_ADDRESS_LOCK_AFTER": "1000000",
}


@dataclass
class Reliability:
    stack: Stack
    pg: ThrowawayPostgres
    log: IO[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return self.stack.base_url

    def addr(self, name: str) -> str:
        port = self.stack.config.auth_port if name == "auth_service" else self.stack.config.collection_port
        return f"127.0.0.1:{port}"

    def pid(self, name: str) -> int:
        return self.stack.processes[name].pid

    def alive(self, name: str) -> bool:
        return self.stack.processes[name].poll() is None

    def signal(self, name: str, sig: signal.Signals, wait: float | None = 10.0) -> None:
        proc = self.stack.processes[name]
        proc.send_signal(sig)
        if wait is not None:
            proc.wait(wait)

    def restart(self, name: str) -> None:
        """Start the service again with the same command and environment as scripts/stack.py, Envoy untouched."""
        assert not self.alive(name), f"{name} is still running"
        port = self.stack.config.auth_port if name == "auth_service" else self.stack.config.collection_port
        proc = subprocess.Popen(
            [sys.executable, "-m", name], env=self.stack.config.service_env(), cwd=ROOT,
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.stack.processes[name] = proc
        wait_grpc_serving(port, proc)

    def envoy_stat(self, name: str) -> int:
        """One Envoy counter or gauge from the admin endpoint (0 if Envoy has not created it yet)."""
        admin = f"http://127.0.0.1:{self.stack.config.admin_port}"
        text = httpx.get(f"{admin}/stats", params={"filter": f"^{re.escape(name)}$"}, timeout=5).text
        match = re.search(rf"^{re.escape(name)}: (\d+)$", text, re.M)
        return int(match.group(1)) if match else 0

    def started_calls(self, method: str) -> int:
        """How many calls of auth_service's `method` its server has started (its /metrics)."""
        url = f"http://127.0.0.1:{self.stack.config.auth_metrics_port}/metrics"
        text = httpx.get(url, timeout=5).text
        match = re.search(rf'^grpc_server_started_total{{[^}}]*grpc_method="{method}"[^}}]*}} (\S+)$', text, re.M)
        return int(float(match.group(1))) if match else 0

    @contextmanager
    def table_locked(self, table: str) -> Iterator[None]:
        """Hold an EXCLUSIVE lock on one of auth_service's tables (reads go on, writes wait) until the block ends."""
        dsn = (self.stack.config.auth_database_url or "").replace("postgresql+asyncpg://", "postgresql://", 1)
        locked, release = threading.Event(), threading.Event()

        async def hold() -> None:
            conn = await asyncpg.connect(dsn, timeout=10)
            try:
                async with conn.transaction():
                    await conn.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
                    locked.set()
                    await asyncio.to_thread(release.wait)
            finally:
                await conn.close()

        holder = threading.Thread(target=asyncio.run, args=(hold(),), daemon=True)
        holder.start()
        try:
            assert locked.wait(10), f"could not lock {table}"
            yield
        finally:
            release.set()
            holder.join(10)

    def rss_kib(self, name: str) -> int:
        status = Path(f"/proc/{self.pid(name)}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres(free_port())
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


@pytest.fixture(scope="session")
async def reliability(
    pg_cluster: ThrowawayPostgres, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Reliability]:
    var = tmp_path_factory.mktemp("reliability")
    config = StackConfig.on_free_ports(
        var,
        auth_database_url=await pg_cluster.create_database("auth"),
        collection_database_url=await pg_cluster.create_database("collection"),
        # The machine running the tests may be shared and busy (stalls of several seconds were seen): a 2 s
        # deadline between the services turns that into 503s, right in production but not what is tested here.
        extra_env={"AUTH_RPC_TIMEOUT_SECONDS": "10", "COLLECTION_RPC_TIMEOUT_SECONDS": "10", **NO_THROTTLING},
        auth_metrics_port=free_port(),  # what auth_service itself has started (test_graceful_shutdown.py)
    )
    prepare(config)
    log_path = var / "stack.log"
    with log_path.open("wb") as log:
        stack = start(config, log=log)
        try:
            yield Reliability(stack, pg_cluster, log, log_path)
        finally:
            stack.stop()
    if request.session.testsfailed:
        print(f"--- stack log (reliability) ---\n{log_path.read_text()[-6000:]}")


@pytest.fixture
def rel(reliability: Reliability) -> Iterator[Reliability]:
    """The stack, healed after each test: whatever a test killed is running again for the next one."""
    yield reliability
    if reliability.pg.proc is None or reliability.pg.proc.poll() is not None:
        reliability.pg.start()
    for name in ("auth_service", "collection_service"):
        if not reliability.alive(name):
            reliability.restart(name)
    wait_until_ok(reliability.url)


def wait_until_ok(url: str, token: str | None = None, timeout: float = 20.0) -> float:
    """Seconds until a public read (and, given a token, GET /users/me/ through both services) answer 200."""
    started = time.monotonic()
    paths = [("/cigars/", {})] + ([("/users/me/", {"Authorization": f"Bearer {token}"})] if token else [])
    with httpx.Client(base_url=url, timeout=2) as client:
        while time.monotonic() - started < timeout:
            try:
                if all(client.get(path, headers=headers).status_code == 200 for path, headers in paths):
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    raise AssertionError(f"the stack did not recover within {timeout}s")


def new_user(client: httpx.Client) -> tuple[int, str]:
    """Register a fresh user and log in: (user id, bearer token)."""
    username = f"rel_{uuid.uuid4().hex[:12]}"
    # generous timeouts: password hashing is slow when the machine is busy, and this is only set-up
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    created = client.post("/users/", json=body, timeout=30)
    assert created.status_code == 201, created.text
    form = {"grant_type": "", "username": username, "password": PASSWORD}
    token = client.post("/token", data=form, timeout=30)
    assert token.status_code == 200, token.text
    return created.json()["id"], token.json()["access_token"]


def assert_json_detail(response: httpx.Response) -> None:
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail, response.text


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures of the reliability run (cases fuzzed, requests sent, errors, recovery times)."""
    from tests.reliability.traffic import FIGURES

    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
