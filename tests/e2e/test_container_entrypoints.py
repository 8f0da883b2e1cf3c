"""The commands the containers run, run here against the live stack: the gateway entrypoint and health checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import free_port
from tests.e2e.conftest import Running


def command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], env={**os.environ, **env}, capture_output=True, text=True)


def test_the_gateway_entrypoint_renders_the_template_and_serves_the_rest_api(running: Running) -> None:
    config = running.stack.config
    env = {
        "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(free_port()), "ENVOY_ADMIN_PORT": str(free_port()),
        "AUTH_HOST": "127.0.0.1", "AUTH_PORT": str(config.auth_port),
        "COLLECTION_HOST": "127.0.0.1", "COLLECTION_PORT": str(config.collection_port),
        "ENVOY_LOG_LEVEL": "warning", "ENVOY_CONCURRENCY": "1",
        "GATEWAY_SECRET_FILE": config.service_env()["GATEWAY_SECRET_FILE"],
    }  # fmt: skip
    assert command("gateway.entrypoint", "ready", env=env).returncode == 1  # nothing there yet
    without_secret = command("gateway.entrypoint", "run", env={**env, "GATEWAY_SECRET_FILE": "/nonexistent/secret"})
    assert without_secret.returncode == 2
    assert without_secret.stderr.strip().splitlines() == [
        "gateway: GATEWAY_SECRET_FILE: cannot read /nonexistent/secret: No such file or directory"
    ]
    gateway = subprocess.Popen(
        [sys.executable, "-m", "gateway.entrypoint", "run"],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while command("gateway.entrypoint", "ready", env=env).returncode != 0:
            assert gateway.poll() is None, gateway.stderr.read().decode() if gateway.stderr else ""
            assert time.monotonic() < deadline, "the gateway never became ready"
            time.sleep(0.3)
        with httpx.Client(base_url=f"http://127.0.0.1:{env['GATEWAY_PORT']}", timeout=10) as client:
            listed = client.get("/cigars/", params={"limit": 1})
            assert listed.status_code == 200 and isinstance(listed.json(), list)
            refused = client.post("/users/", json={"username": "x"})
            assert refused.status_code == 400 and "detail" in refused.json()
    finally:
        gateway.send_signal(signal.SIGTERM)  # the entrypoint exec'd Envoy: same PID
        gateway.wait(10)


def test_the_health_command_says_serving_for_a_live_service_and_fails_where_none_listens(running: Running) -> None:
    config = running.stack.config
    for service, setting, port in (
        ("auth_service", "AUTH_PORT", config.auth_port),
        ("collection_service", "COLLECTION_PORT", config.collection_port),
    ):
        live = command(service, "health", env={setting: str(port)})
        assert live.returncode == 0 and "SERVING" in live.stdout, live.stdout + live.stderr
        dead = command(service, "health", env={setting: str(free_port())})
        assert dead.returncode == 1 and "UNAVAILABLE" in dead.stdout
