"""Login latency through the gateway: `python -m scripts.bench_login [--rounds N]` (a benchmark, not a test).

Starts a stack of its own on free ports (SQLite under a temporary directory), registers one user and
times POST /token for a good and a bad password, for an existing and an unknown user, interleaved so
that drift hits every case alike. Throttling and Envoy's /token limit are raised out of the way: they
are what an attacker meets, while this measures what the password check itself reveals.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from scripts.stack import StackConfig, running

NO_THROTTLE = {
    "AUTH_THROTTLE_DELAY_AFTER": "1000000",
    "AUTH_THROTTLE_PAIR_LOCK_AFTER": "1000000",
    "AUTH_THROTTLE_ACCOUNT_LOCK_AFTER": "1000000",
    "AUTH_THROTTLE_ADDRESS_LOCK_AFTER": "1000000",
    "TOKEN_RATE_LIMIT_BURST": "1000000",
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="logins per case (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig.on_free_ports(Path(tmp), extra_env=NO_THROTTLE)
        with running(config, Path(tmp) / "stack.log") as stack:
            return run(stack.base_url, args.rounds)


def run(base_url: str, rounds: int) -> int:
    name, password = f"bench_{uuid.uuid4().hex[:8]}", "a long benchmark password"
    cases = {
        "existing user, good password": (name, password, 200),
        "existing user, bad password": (name, "not the password", 400),
        "unknown user, good password": ("nobody_" + name, password, 400),
        "unknown user, bad password": ("nobody_" + name, "not the password", 400),
    }
    timings: dict[str, list[float]] = {case: [] for case in cases}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.post("/users/", json={"username": name, "email": f"{name}@example.com", "password": password})
        for _ in range(5):  # warm up connections and caches
            for username, secret, _ in cases.values():
                client.post("/token", data={"username": username, "password": secret})
        for _ in range(rounds):
            for case, (username, secret, expected) in cases.items():
                started = time.perf_counter()
                response = client.post("/token", data={"grant_type": "password", "username": username,
                                                       "password": secret})  # fmt: skip
                timings[case].append((time.perf_counter() - started) * 1000)
                if response.status_code != expected:
                    raise SystemExit(f"{case}: expected {expected}, got {response.status_code} {response.text}")
    print(f"POST /token through Envoy, {rounds} logins per case, sequential, one client")
    print(f"{'case':32} {'median ms':>10} {'p99 ms':>10}")
    for case, values in timings.items():
        print(f"{case:32} {statistics.median(values):10.1f} {percentile(values, 99):10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
