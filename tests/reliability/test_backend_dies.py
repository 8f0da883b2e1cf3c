"""Promise 1, a backend dies: answers are 503 with a JSON detail within a second, the other service keeps
serving what it can on its own, and a restarted service is used again without restarting Envoy or its peer."""

from __future__ import annotations

import signal
import time
import uuid

import httpx

from tests.reliability.conftest import PASSWORD, Reliability, assert_json_detail, new_user, wait_until_ok
from tests.reliability.traffic import FAST, FIGURES, NO_HANG, Traffic, slowest_503, timed

CIGAR = {"name": "Robusto", "brand": "Padron", "origin": "Nicaragua", "flavor_notes": "cocoa", "rating": 4}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def registration() -> dict[str, str]:
    username = f"rel_{uuid.uuid4().hex[:12]}"
    return {"username": username, "email": f"{username}@example.com", "password": PASSWORD}


def assert_fast_503(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert_json_detail(response)
    assert elapsed < FAST, f"took {elapsed:.2f}s"


def assert_traffic_never_hung(traffic: Traffic, allowed: set[int]) -> None:
    """Every answer, before, during and after the outage: one of `allowed`, JSON detail on a 503, no hang."""
    assert traffic.outcomes, "no background traffic was sent"
    for outcome in traffic.outcomes:
        assert outcome.status in allowed, outcome
        assert outcome.status != 503 or outcome.has_detail, outcome
        assert outcome.elapsed < NO_HANG, outcome


def test_collection_service_killed_means_fast_503s_for_cigars_while_auth_keeps_serving_and_a_restart_recovers(
    rel: Reliability,
) -> None:
    envoy_pid, auth_pid = rel.pid("envoy"), rel.pid("auth_service")
    with httpx.Client(base_url=rel.url, timeout=5) as client:
        _, token = new_user(client)
        requests = {
            "list": lambda c: c.get("/cigars/"),
            "me": lambda c: c.get("/users/me/", headers=bearer(token)),
            "create": lambda c: c.post("/cigars/", json=CIGAR, headers=bearer(token)),
        }
        with Traffic(rel.url, requests, threads=3) as traffic:
            time.sleep(0.5)
            rel.signal("collection_service", signal.SIGKILL)
            killed_at = time.monotonic()
            for method, path, body in (("GET", "/users/me/", None), ("GET", "/cigars/", None),
                                       ("POST", "/cigars/", CIGAR)):  # fmt: skip
                assert_fast_503(*timed(client, method, path, json=body, headers=bearer(token)))
            # auth_service answers its public calls by itself
            assert client.post("/users/", json=registration()).status_code == 201
            assert client.post("/token", data={"username": "nobody_here", "password": "x" * 8}).status_code == 400
            time.sleep(max(0.0, killed_at + 2.5 - time.monotonic()))  # past Envoy's health-check interval
            restarted_at = time.monotonic()
            rel.restart("collection_service")
            serving = time.monotonic() - restarted_at
            recovery = wait_until_ok(rel.url, token) + serving
            time.sleep(0.3)
        assert client.get("/users/me/", headers=bearer(token)).status_code == 200
        assert client.post("/cigars/", json=CIGAR, headers=bearer(token)).status_code == 201
    assert_traffic_never_hung(traffic, {200, 201, 503})
    assert any(o.status == 503 for o in traffic.outcomes)
    assert all(o.status in (200, 201) for o in traffic.outcomes if o.started > restarted_at + recovery)
    assert (rel.pid("envoy"), rel.pid("auth_service")) == (envoy_pid, auth_pid)
    FIGURES["collection_service SIGKILL: requests sent / 503s / other errors"] = (
        f"{len(traffic.outcomes)} / {sum(o.status == 503 for o in traffic.outcomes)} / 0"
    )
    FIGURES["collection_service SIGKILL: slowest 503 (s)"] = slowest_503(traffic.outcomes)
    FIGURES["collection_service restart: process serving / cigars and /users/me/ OK via Envoy (s)"] = (
        f"{serving:.2f} / {recovery:.2f}"
    )


def test_auth_service_killed_leaves_cigar_reads_and_token_checks_working_from_cached_keys(rel: Reliability) -> None:
    envoy_pid, collection_pid = rel.pid("envoy"), rel.pid("collection_service")
    with httpx.Client(base_url=rel.url, timeout=5) as client:
        _, token = new_user(client)
        cigar_requests = {
            "list": lambda c: c.get("/cigars/"),
            "create": lambda c: c.post("/cigars/", json=CIGAR, headers=bearer(token)),
        }
        with (
            Traffic(rel.url, cigar_requests, threads=2) as cigars,
            Traffic(rel.url, {"me": lambda c: c.get("/users/me/", headers=bearer(token))}, threads=1) as profile,
        ):
            time.sleep(0.5)
            rel.signal("auth_service", signal.SIGKILL)
            killed_at = time.monotonic()
            assert_fast_503(*timed(client, "GET", "/users/me/", headers=bearer(token)))
            assert_fast_503(*timed(client, "POST", "/token", data={"username": "someone", "password": PASSWORD}))
            assert_fast_503(*timed(client, "POST", "/users/", json=registration()))
            assert client.get("/cigars/").status_code == 200
            assert client.post("/cigars/", json=CIGAR, headers=bearer(token)).status_code == 201
            time.sleep(max(0.0, killed_at + 2.5 - time.monotonic()))
            restarted_at = time.monotonic()
            rel.restart("auth_service")
            serving = time.monotonic() - restarted_at
            recovery = wait_until_ok(rel.url, token) + serving
    # cigar reads and writes never noticed: tokens were checked with the keys collection_service had cached
    assert_traffic_never_hung(cigars, {200, 201})
    assert_traffic_never_hung(profile, {200, 503})
    assert any(o.status == 503 for o in profile.outcomes)
    assert (rel.pid("envoy"), rel.pid("collection_service")) == (envoy_pid, collection_pid)
    FIGURES["auth_service SIGKILL: cigar requests sent / errors"] = f"{len(cigars.outcomes)} / 0"
    FIGURES["auth_service SIGKILL: slowest 503 (s)"] = slowest_503(profile.outcomes)
    FIGURES["auth_service SIGKILL: GET /users/me/ sent / 503s"] = (
        f"{len(profile.outcomes)} / {sum(o.status == 503 for o in profile.outcomes)}"
    )
    FIGURES["auth_service restart: serving / GET /users/me/ OK via Envoy (s)"] = f"{serving:.2f} / {recovery:.2f}"
