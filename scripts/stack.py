"""Run the whole stack locally: `make run` (python -m scripts.stack), also used by the e2e tests.

Migrates both databases, creates a development signing key if there is none (0600, under var/),
starts auth_service, collection_service and Envoy as child processes, waits until each is ready,
and stops them all (SIGTERM, by PID) on Ctrl-C or SIGTERM. Settings come from the environment.
"""

from __future__ import annotations

import collections
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# Below Linux's ephemeral range (32768-60999): the kernel takes the local port of every outgoing connection
# from that range, so a port picked there and bound a moment later may meanwhile be some connection's.
PICK_PORTS = range(20000, 32768)


# The ports this process handed out lately: two picks before either is bound (a stack's two services) must differ.
HANDED_OUT: collections.deque[int] = collections.deque(maxlen=1024)


def free_port() -> int:
    """A port nothing is bound to right now, for stacks that share the machine: a random one below the
    ephemeral range, so that no outgoing connection takes it before the stack binds it."""
    for port in random.sample(PICK_PORTS, 200):
        if port in HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        HANDED_OUT.append(port)
        return port
    raise RuntimeError(f"no free port in {PICK_PORTS.start}-{PICK_PORTS.stop - 1} after 200 tries")


@dataclass
class StackConfig:
    var_dir: Path = ROOT / "var"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    admin_port: int = 9901
    auth_port: int = 50051
    collection_port: int = 50052
    auth_metrics_port: int = 0  # Prometheus /metrics of each service; 0 turns it off
    collection_metrics_port: int = 0
    envoy_metrics_port: int = 0  # Envoy's /stats/prometheus beside the admin's; 0: only on the admin
    auth_database_url: str | None = None  # default: SQLite under var_dir
    collection_database_url: str | None = None
    key_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, var_dir: Path, **settings: Any) -> StackConfig:
        """A stack beside others (tests, benchmarks): gateway, admin and both services on free ports."""
        ports = {name: free_port() for name in ("gateway_port", "admin_port", "auth_port", "collection_port")}
        return cls(var_dir=var_dir, **{**ports, **settings})

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        var_dir = Path(env.get("VAR_DIR", ROOT / "var"))
        return cls(
            var_dir=var_dir,
            gateway_host=env.get("GATEWAY_HOST", "127.0.0.1"),
            gateway_port=int(env.get("GATEWAY_PORT", 8000)),
            admin_port=int(env.get("ENVOY_ADMIN_PORT", 9901)),
            auth_port=int(env.get("AUTH_PORT", 50051)),
            collection_port=int(env.get("COLLECTION_PORT", 50052)),
            auth_metrics_port=int(env.get("AUTH_METRICS_PORT", 9464)),
            collection_metrics_port=int(env.get("COLLECTION_METRICS_PORT", 9465)),
            auth_database_url=env.get("AUTH_DATABASE_URL"),
            collection_database_url=env.get("COLLECTION_DATABASE_URL"),
            key_file=Path(env["AUTH_PRIVATE_KEY_FILE"]) if env.get("AUTH_PRIVATE_KEY_FILE") else None,
        )

    def service_env(self) -> dict[str, str]:
        var = self.var_dir.resolve()
        return {
            **os.environ,
            "AUTH_HOST": "127.0.0.1",
            "AUTH_PORT": str(self.auth_port),
            "AUTH_DATABASE_URL": self.auth_database_url or f"sqlite+aiosqlite:///{var}/auth.db",
            "AUTH_PRIVATE_KEY_FILE": str(self.key_file or var / "keys" / "auth_ed25519.pem"),
            # the secret with which Envoy vouches for client addresses to auth_service (auth_service/api/peer.py)
            "AUTH_GATEWAY_SECRET_FILE": str(var / "keys" / "gateway.secret"),
            "GATEWAY_SECRET_FILE": str(var / "keys" / "gateway.secret"),
            "AUTH_COLLECTION_SERVICE_ADDR": f"127.0.0.1:{self.collection_port}",
            "COLLECTION_HOST": "127.0.0.1",
            "COLLECTION_PORT": str(self.collection_port),
            "COLLECTION_DATABASE_URL": self.collection_database_url or f"sqlite+aiosqlite:///{var}/collection.db",
            "COLLECTION_AUTH_SERVICE_ADDR": f"127.0.0.1:{self.auth_port}",
            "GATEWAY_HOST": self.gateway_host,
            "GATEWAY_PORT": str(self.gateway_port),
            "ENVOY_ADMIN_PORT": str(self.admin_port),
            "AUTH_METRICS_PORT": str(self.auth_metrics_port),
            "COLLECTION_METRICS_PORT": str(self.collection_metrics_port),
            "ENVOY_METRICS_PORT": str(self.envoy_metrics_port),
            **self.extra_env,
        }

    def process_env(self, name: str) -> dict[str, str]:
        """service_env as the process `name` gets it: under its own name in traces (one environment, three
        processes, and OTEL_SERVICE_NAME is one name)."""
        return {**self.service_env(), "OTEL_SERVICE_NAME": name}


@dataclass
class Stack:
    config: StackConfig
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.config.gateway_host}:{self.config.gateway_port}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every child by PID (Envoy first, so no new requests arrive), then wait; SIGKILL stragglers."""
        for name in ("envoy", "collection_service", "auth_service"):
            proc = self.processes.get(name)
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def restart_service(stack: Stack, name: str, log: IO[bytes] | None = None) -> None:
    """Stop one service by PID (SIGTERM, graceful) and start it again with the same settings (tests, rotation)."""
    port = {"auth_service": stack.config.auth_port, "collection_service": stack.config.collection_port}[name]
    stop_service(stack, name)
    stack.processes[name] = subprocess.Popen(
        [sys.executable, "-m", name], env=stack.config.process_env(name), cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )  # fmt: skip
    wait_grpc_serving(port, stack.processes[name])


def stop_service(stack: Stack, name: str, timeout: float = 10.0) -> None:
    proc = stack.processes[name]
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)


def run_checked(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def create_secret_file(path: Path) -> None:
    """A random secret readable by its owner only, unless the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")


def prepare(config: StackConfig) -> None:
    """Migrate both databases and create the development key and the gateway secret if missing."""
    env = config.service_env()
    config.var_dir.mkdir(parents=True, exist_ok=True)
    create_secret_file(Path(env["GATEWAY_SECRET_FILE"]))
    run_checked([sys.executable, "-m", "auth_service", "genkey", "--if-missing"], env)
    run_checked([sys.executable, "-m", "auth_service", "migrate"], env)
    run_checked([sys.executable, "-m", "collection_service", "migrate"], env)


def wait_grpc_serving(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # the stubs' HealthStub lacks its methods
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"process exited with {proc.returncode} before serving on {port}")
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    == health_pb2.HealthCheckResponse.SERVING
                ):
                    return
            except grpc.RpcError:
                time.sleep(0.1)
    raise RuntimeError(f"nothing serving on port {port} after {timeout}s")


def wait_envoy_ready(admin_port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"envoy exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"envoy not ready after {timeout}s")


def start(config: StackConfig, log: IO[bytes] | None = None) -> Stack:
    """Start both services, then Envoy once they serve. On any failure, stop what was started."""
    from gateway.render import render

    env = config.service_env()
    stack = Stack(config)
    out = log if log is not None else None
    try:
        # auth_service first: collection_service fetches its keys at start (and retries if it cannot).
        for name, port in (("auth_service", config.auth_port), ("collection_service", config.collection_port)):
            stack.processes[name] = subprocess.Popen(
                [sys.executable, "-m", name], env=config.process_env(name), cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT if out else None,
            )  # fmt: skip
            wait_grpc_serving(port, stack.processes[name])
        envoy_config = config.var_dir / f"envoy-{config.gateway_port}.yaml"
        envoy_config.touch(mode=0o600)
        envoy_config.chmod(0o600)  # before anything is written: it holds the gateway secret
        envoy_config.write_text(render(config.process_env("gateway")))
        stack.processes["envoy"] = subprocess.Popen(
            [str(BIN / "envoy"), "-c", str(envoy_config), "--log-level", "warn",
             "--disable-hot-restart", "--file-flush-interval-msec", "500"],  # access log: 10 s by default
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None,
        )  # fmt: skip
        wait_envoy_ready(config.admin_port, stack.processes["envoy"])
    except BaseException:
        stack.stop()
        raise
    return stack


class StopRequested(Exception):
    """SIGTERM arrived while the stack was starting."""


@contextmanager
def running(config: StackConfig, log_path: Path) -> Iterator[Stack]:
    """A stack for a test or a benchmark: prepared (key, migrations), started with every child's output in
    `log_path`, and stopped (SIGTERM by PID) on the way out, whatever happened inside."""
    prepare(config)
    with log_path.open("wb") as log:
        stack = start(config, log=log)
        try:
            yield stack
        finally:
            stack.stop()


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopRequested


def ports_in_use(config: StackConfig) -> list[str]:
    """Each port of the stack that something already listens on, as a line naming its setting: a second stack
    on the same ports would otherwise share them (SO_REUSEPORT) and split the traffic with the first."""
    from service_kit.ports import PortInUse, check_port_free

    local = "127.0.0.1"
    ports = {"AUTH_PORT": (local, config.auth_port), "COLLECTION_PORT": (local, config.collection_port),
             "GATEWAY_PORT": (config.gateway_host, config.gateway_port), "ENVOY_ADMIN_PORT": (local, config.admin_port),
             "AUTH_METRICS_PORT": (local, config.auth_metrics_port),
             "COLLECTION_METRICS_PORT": (local, config.collection_metrics_port)}  # fmt: skip
    taken = []
    for setting, (host, port) in ports.items():
        try:
            check_port_free(host, port)
        except PortInUse as exc:
            taken.append(f"{setting}: {exc}")
    return taken


def main() -> int:
    # Until everything is up, SIGTERM interrupts start(), which stops what it had started (a SIGTERM in
    # that window used to kill this process alone and orphan the children). Like a SIGTERM later on, it
    # is a requested stop: exit 0 once everything is down. Ctrl-C while starting exits 130, as shells expect.
    signal.signal(signal.SIGTERM, _raise_stop)
    config = StackConfig.from_env()
    if taken := ports_in_use(config):
        print(f"make run: {taken[0]}", file=sys.stderr)  # the first: one line, as the services say it
        return 2
    try:
        prepare(config)
        stack = start(config)
    except StopRequested:
        return 0
    except KeyboardInterrupt:
        return 130
    print(f"REST gateway:        {stack.base_url}", flush=True)
    print(f"auth_service gRPC:   127.0.0.1:{config.auth_port}", flush=True)
    print(f"collection gRPC:     127.0.0.1:{config.collection_port}", flush=True)
    print(f"API docs:            {stack.base_url}/docs", flush=True)
    for name, port in (("auth", config.auth_metrics_port), ("collection", config.collection_metrics_port)):
        print(f"{name + ' metrics:':<21}http://127.0.0.1:{port}/metrics", flush=True)
    print(f"Envoy admin:         http://127.0.0.1:{config.admin_port}  (Ctrl-C stops everything)", flush=True)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not stopping and all(p.poll() is None for p in stack.processes.values()):
            time.sleep(0.2)
    finally:
        stack.stop()
    exited = [n for n, p in stack.processes.items() if p.returncode not in (0, -signal.SIGTERM)]
    return 1 if exited and not stopping else 0


if __name__ == "__main__":
    sys.exit(main())
