"""Promise 3, graceful shutdown: on SIGTERM a service finishes the requests it has already accepted, exits
cleanly, and no client sees an avoidable 5xx (only a fast JSON 503 while no instance is up)."""

from __future__ import annotations

import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.reliability.conftest import PASSWORD, Reliability, new_user, wait_until_ok
from tests.reliability.traffic import FIGURES, NO_HANG, Traffic, slowest_503

IN_FLIGHT = 16


def register(url: str) -> httpx.Response:
    name = f"rel_{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=url, timeout=15) as client:
        return client.post("/users/", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})


def test_sigterm_lets_accepted_requests_finish_before_the_service_exits(rel: Reliability) -> None:
    # Registrations hash a password on 2 worker threads: a dozen of them queue inside auth_service.
    total, active = "cluster.auth_service.upstream_rq_total", "cluster.auth_service.upstream_rq_active"
    # upstream_rq_total counts a request as soon as Envoy has it for the cluster, also while it waits for
    # a new connection to open: until none waits, a SIGTERM could refuse that connection (a 503, rightly).
    pending = "cluster.auth_service.upstream_rq_pending_active"
    sent_before = rel.envoy_stat(total)
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        futures = [pool.submit(register, rel.url) for _ in range(IN_FLIGHT)]
        deadline = time.monotonic() + 10
        # every registration handed to auth_service, some of them still being worked on
        while (
            rel.envoy_stat(total) - sent_before < IN_FLIGHT
            or rel.envoy_stat(pending) > 0
            or (in_flight := rel.envoy_stat(active)) < 2
        ):
            assert time.monotonic() < deadline, "the registrations never were in flight together"
            time.sleep(0.005)
        terminated_at = time.monotonic()
        rel.signal("auth_service", signal.SIGTERM, wait=None)
        responses = [f.result() for f in futures]
    exit_code = rel.stack.processes["auth_service"].wait(10)
    exited_after = time.monotonic() - terminated_at
    assert [r.status_code for r in responses] == [201] * IN_FLIGHT, [r.text for r in responses if r.is_error]
    assert exit_code == 0
    FIGURES["SIGTERM auth_service: registrations in flight at SIGTERM / all completed with 201"] = (
        f"{in_flight} / {IN_FLIGHT}"
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
