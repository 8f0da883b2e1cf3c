"""A second stack on ports in use fails at once with one line naming the port and its setting, instead of
sharing the port (SO_REUSEPORT) and silently splitting the traffic. Real processes throughout; the worker
processes of one service still share their port (tests/integration/test_workers.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.render import render
from scripts.stack import BIN, wait_envoy_ready, wait_grpc_serving
from tests.conftest import GATEWAY_TEST_SECRET, free_port, run_migrations

ROOT = Path(__file__).resolve().parent.parent


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def service_env(service: str, tmp: Path, port: int, key_file: Path) -> dict[str, str]:
    prefix = service.split("_")[0].upper()
    url = f"sqlite+aiosqlite:///{tmp}/{prefix.lower()}.db"
    run_migrations(prefix.lower(), url)
    return {**os.environ, f"{prefix}_PORT": str(port), f"{prefix}_DATABASE_URL": url,
            "AUTH_PRIVATE_KEY_FILE": str(key_file)}  # fmt: skip


@pytest.fixture
def running_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("service", ["auth_service", "collection_service"])
def test_a_second_service_on_a_port_in_use_fails_at_once_naming_the_port_and_the_setting(
    service: str, tmp_path: Path, key_file: Path, running_processes: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    env = service_env(service, tmp_path, port, key_file)
    first = subprocess.Popen([sys.executable, "-m", service], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    running_processes.append(first)
    wait_grpc_serving(port, first)
    second = subprocess.run(
        [sys.executable, "-m", service], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    setting = f"{service.split('_')[0].upper()}_PORT"
    assert one_line(second) == f"{service}: {setting}: 127.0.0.1:{port} is in use by another process"
    assert first.poll() is None  # the first one keeps serving, alone


def gateway_env(port: int, admin_port: int, tmp: Path) -> dict[str, str]:
    secret = tmp / "gateway.secret"
    secret.write_text(GATEWAY_TEST_SECRET)
    return {**os.environ, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "GATEWAY_SECRET_FILE": str(secret),
            "ENVOY_ADMIN_PORT": str(admin_port), "ENVOY_LOG_LEVEL": "warning", "ENVOY_CONCURRENCY": "1"}  # fmt: skip


def test_a_second_gateway_on_a_port_in_use_fails_at_once_naming_the_port_and_the_setting(
    tmp_path: Path, running_processes: list[subprocess.Popen[bytes]]
) -> None:
    port, admin = free_port(), free_port()
    first = subprocess.Popen(
        [sys.executable, "-m", "gateway.entrypoint", "run"], env=gateway_env(port, admin, tmp_path), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    running_processes.append(first)
    wait_envoy_ready(admin, first)  # type: ignore[arg-type]
    second = subprocess.run(
        [sys.executable, "-m", "gateway.entrypoint", "run"], env=gateway_env(port, free_port(), tmp_path), cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert one_line(second) == f"gateway: GATEWAY_PORT: 127.0.0.1:{port} is in use by another process"


def test_envoy_itself_refuses_a_listener_port_another_envoy_holds(
    tmp_path: Path, running_processes: list[subprocess.Popen[bytes]]
) -> None:
    # Envoy sets SO_REUSEPORT on listeners by default: a second Envoy bound the same port and took half the
    # connections. The template turns that off, so even an Envoy started without our entrypoint fails.
    port = free_port()
    processes = []
    for name in ("first", "second"):
        config = tmp_path / f"{name}.yaml"
        admin = free_port()
        config.write_text(
            render({"GATEWAY_PORT": str(port), "ENVOY_ADMIN_PORT": str(admin)}, secret=GATEWAY_TEST_SECRET)
        )
        proc = subprocess.Popen(
            [str(BIN / "envoy"), "-c", str(config), "--disable-hot-restart", "--base-id", str(admin)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        running_processes.append(proc)  # type: ignore[arg-type]
        processes.append((proc, admin))
        if name == "first":
            wait_envoy_ready(admin, proc)  # type: ignore[arg-type]
    second, second_admin = processes[1]
    deadline = time.monotonic() + 20
    while second.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # serving both is the bug: fail now, not at the deadline
            assert httpx.get(f"http://127.0.0.1:{second_admin}/ready", timeout=1).status_code != 200
        time.sleep(0.2)
    assert second.poll() not in (None, 0), "a second Envoy listens on the port the first one holds"


def test_make_run_on_ports_in_use_fails_before_starting_anything(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a running gRPC server holds it
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    env = {**os.environ, "VAR_DIR": str(tmp_path), "AUTH_PORT": str(port), "COLLECTION_PORT": str(free_port()),
           "GATEWAY_PORT": str(free_port()), "ENVOY_ADMIN_PORT": str(free_port()),
           "AUTH_METRICS_PORT": str(free_port()), "COLLECTION_METRICS_PORT": str(free_port())}  # fmt: skip
    try:
        result = subprocess.run(
            [sys.executable, "-m", "scripts.stack"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    finally:
        taken.close()
    assert one_line(result) == f"make run: AUTH_PORT: 127.0.0.1:{port} is in use by another process"
    assert not (tmp_path / "auth.db").exists()  # nothing was started or migrated
