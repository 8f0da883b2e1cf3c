"""Promise 3, graceful shutdown: on SIGTERM a service finishes the requests it has already accepted, exits
cleanly, and no client sees an avoidable 5xx (only a fast JSON 503 while no instance is up)."""

from __future__ import annotations

import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.reliability.conftest import PASSWORD, Reliability, new_user, wait_until_ok
from tests.reliability.traffic import FIGURES, NO_HANG, Traffic, slowest_503

IN_FLIGHT = 16


def register(url: str) -> httpx.Response:
    name = f"rel_{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=url, timeout=15) as client:
        return client.post("/users/", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})


def shutdown_has_begun(address: str, timeout: float = 10.0) -> None:
    """Wait until the service no longer reports SERVING (NOT_SERVING, or no longer taking calls)."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    != health_pb2.HealthCheckResponse.SERVING
                ):
                    return
            except grpc.RpcError:
                return
            time.sleep(0.01)
    raise AssertionError(f"{address} still serving {timeout}s after SIGTERM")


def test_sigterm_lets_accepted_requests_finish_before_the_service_exits(rel: Reliability) -> None:
    # What the service has accepted is what its server has started, which only it can tell (its metrics):
    # Envoy counts a request as active once sent, but gRPC's server takes calls from its queue one by one
    # and, at shutdown, cancels those it never started (Envoy retries them; with no other instance, a 503).
    # The registrations then wait on a lock of the users table, so all of them are surely still in flight
    # when SIGTERM arrives, however busy the machine is; the lock goes once the shutdown has begun.
    started_before = rel.started_calls("CreateUser")
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        with rel.table_locked("users"):
            futures = [pool.submit(register, rel.url) for _ in range(IN_FLIGHT)]
            deadline = time.monotonic() + 12  # under Envoy's 15 s route timeout
            while rel.started_calls("CreateUser") - started_before < IN_FLIGHT:
                assert time.monotonic() < deadline, "auth_service never started every registration"
                time.sleep(0.01)
            assert not any(f.done() for f in futures), [f.result().text for f in futures if f.done()]
            terminated_at = time.monotonic()
            rel.signal("auth_service", signal.SIGTERM, wait=None)
            shutdown_has_begun(rel.addr("auth_service"))
        responses = [f.result() for f in futures]
    exit_code = rel.stack.processes["auth_service"].wait(10)
    exited_after = time.monotonic() - terminated_at
    assert [r.status_code for r in responses] == [201] * IN_FLIGHT, [r.text for r in responses if r.is_error]
    assert exit_code == 0
    FIGURES["SIGTERM auth_service: registrations in flight at SIGTERM / all completed with 201"] = (
        f"{IN_FLIGHT} / {IN_FLIGHT}"
    )
    FIGURES["SIGTERM auth_service: exited after (s)"] = round(exited_after, 2)


def test_sigterm_under_load_gives_no_client_an_avoidable_5xx(rel: Reliability) -> None:
    with httpx.Client(base_url=rel.url, timeout=5) as client:
        _, token = new_user(client)
    headers = {"Authorization": f"Bearer {token}"}
    cigar = {"name": "Corona", "brand": "Cohiba", "rating": 5}
    requests = {
        "list": lambda c: c.get("/cigars/", params={"limit": 50}),
        "create": lambda c: c.post("/cigars/", json=cigar, headers=headers),
    }
    with Traffic(rel.url, requests, threads=6) as traffic:
        deadline = time.monotonic() + 15
        while len(traffic.outcomes) < 30:  # under way before the signal, however busy the machine is
            assert time.monotonic() < deadline, "the traffic never got going"
            time.sleep(0.05)
        terminated_at = time.monotonic()
        rel.signal("collection_service", signal.SIGTERM)
        stopped_at = time.monotonic()
        rel.restart("collection_service")
        serving_at = time.monotonic()
        wait_until_ok(rel.url, token)
        time.sleep(0.5)
    outcomes = traffic.outcomes
    # Started before SIGTERM: the service had them, so they must have succeeded.
    before = [o for o in outcomes if o.ended < terminated_at or (o.started < terminated_at and o.status != 503)]
    assert before and all(o.status in (200, 201) for o in before), {o.status for o in before}
    # While no instance is up the only honest answer is a fast 503 with a detail; never 500, 502 or 504.
    assert {o.status for o in outcomes} <= {200, 201, 503}, sorted({o.status for o in outcomes})
    assert all(o.has_detail and o.elapsed < NO_HANG for o in outcomes if o.status == 503), [
        o for o in outcomes if o.status == 503 and not (o.has_detail and o.elapsed < NO_HANG)
    ][:3]
    # Once the new instance serves, everything succeeds again.
    assert all(o.status in (200, 201) for o in outcomes if o.started > serving_at + 1.0)
    FIGURES["SIGTERM collection_service under load: requests sent / 503s while down / other errors"] = (
        f"{len(outcomes)} / {sum(o.status == 503 for o in outcomes)} / 0"
    )
    FIGURES["SIGTERM collection_service: slowest 503 (s)"] = slowest_503(outcomes)
    FIGURES["SIGTERM collection_service: stopped after (s)"] = round(stopped_at - terminated_at, 2)
