"""`make run`'s runner (scripts/stack.py) stops everything it started, also when told to stop mid-start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes: it holds no port and runs no code
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_while_the_stack_is_starting_stops_every_child_and_exits_0(tmp_path: Path) -> None:
    auth_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")},
        "VAR_DIR": str(tmp_path), "GATEWAY_PORT": str(free_port()), "ENVOY_ADMIN_PORT": str(free_port()),
        "AUTH_PORT": str(auth_port), "COLLECTION_PORT": str(free_port()),
        "AUTH_METRICS_PORT": "0", "COLLECTION_METRICS_PORT": "0",
    }  # fmt: skip
    runner = subprocess.Popen([sys.executable, "-m", "scripts.stack"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not accepts(auth_port):  # auth_service is up: the runner is in the middle of start()
            assert runner.poll() is None and time.monotonic() < deadline, "auth_service never started"
            time.sleep(0.05)
        started = children_of(runner.pid)
        assert started, "the runner has no child processes"
        runner.send_signal(signal.SIGTERM)
        out, _ = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, out.decode()[-3000:]
    assert not [pid for pid in started if alive(pid)], "children outlived the runner"
    assert not accepts(auth_port)
