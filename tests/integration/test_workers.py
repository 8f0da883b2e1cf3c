"""Several worker processes per service: they serve one port, stop together, and fail together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.stack import ROOT, wait_grpc_serving
from tests.conftest import free_port, migrate


def children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
async def collection_db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'collection.db'}"
    await migrate("collection", url)
    return url


@pytest.fixture
def two_workers(collection_db: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {**os.environ, "COLLECTION_PORT": str(port), "COLLECTION_DATABASE_URL": collection_db,
           "COLLECTION_WORKERS": "2", "COLLECTION_AUTH_SERVICE_ADDR": f"127.0.0.1:{free_port()}"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "collection_service"], env=env, cwd=ROOT)
    try:
        wait_grpc_serving(port, proc)
        deadline = time.monotonic() + 10
        while len(children(proc.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        yield proc, port
    finally:
        for pid in [*children(proc.pid), proc.pid]:  # by PID, whatever the test left running
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(5)


def test_two_workers_listen_on_the_one_port_and_sigterm_stops_them_all(two_workers) -> None:  # type: ignore[no-untyped-def]
    proc, port = two_workers
    workers = [proc.pid, *children(proc.pid)]  # the first worker forks the others
    assert len(workers) == 2
    listening = subprocess.run(["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    assert all(f"pid={pid}," in listening for pid in workers), listening
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert not any(alive(pid) for pid in workers)


def test_when_a_forked_worker_dies_the_service_stops_and_says_so(two_workers) -> None:  # type: ignore[no-untyped-def]
    proc, _ = two_workers
    (forked,) = children(proc.pid)
    os.kill(forked, signal.SIGKILL)
    assert proc.wait(15) == 1


def test_when_the_first_worker_dies_the_others_stop_too(two_workers) -> None:  # type: ignore[no-untyped-def]
    proc, _ = two_workers
    (forked,) = children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(5)
    deadline = time.monotonic() + 15
    while alive(forked) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(forked)


def test_with_two_workers_the_metrics_count_every_call_of_both(collection_db: str) -> None:
    import grpc
    from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
    from prometheus_client.parser import text_string_to_metric_families

    port, metrics_port = free_port(), free_port()
    env = {**os.environ, "COLLECTION_PORT": str(port), "COLLECTION_DATABASE_URL": collection_db,
           "COLLECTION_WORKERS": "2", "COLLECTION_METRICS_PORT": str(metrics_port),
           "COLLECTION_AUTH_SERVICE_ADDR": f"127.0.0.1:{free_port()}"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "collection_service"], env=env, cwd=ROOT)
    channels = []
    try:
        wait_grpc_serving(port, proc)
        deadline = time.monotonic() + 10
        while len(children(proc.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [proc.pid, *children(proc.pid)]
        # Each channel is a connection of its own, which the kernel gives to one worker (SO_REUSEPORT).
        # (a local subchannel pool each: else gRPC shares one connection among them)
        own = [("grpc.use_local_subchannel_pool", 1)]
        channels = [grpc.insecure_channel(f"127.0.0.1:{port}", options=own) for _ in range(16)]
        for channel in channels:
            stub = collection_pb2_grpc.CollectionServiceStub(channel)
            for _ in range(5):
                stub.ListCigars(collection_pb2.ListCigarsRequest(limit=1), timeout=5)
        established = subprocess.run(["ss", "-Htnp", "state", "established", f"sport = :{port}"],
                                     capture_output=True, text=True).stdout  # fmt: skip
        assert all(f"pid={pid}," in established for pid in workers), "both workers must have served calls"
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:  # noqa: S310
            text = reply.read().decode()
        counted = {
            s.labels.get("grpc_method"): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "grpc_server_handled_total" and s.labels.get("grpc_code") == "OK"
        }
        assert counted["ListCigars"] == 16 * 5
        size = {"pool": "statements", "state": "size"}
        pools = [s.value for family in text_string_to_metric_families(text) for s in family.samples
                 if s.name == "db_pool_connections" and s.labels == size]  # fmt: skip
        assert pools == [2 * 4]  # both workers' SQLite statement pools (4 each)
    finally:
        for channel in channels:
            channel.close()
        for pid in [*children(proc.pid), proc.pid]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(5)
