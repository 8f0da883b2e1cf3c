"""Operators follow one request across the gateway and both services, and read rates and errors as metrics."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Frontend, Running

SERVICES = {"auth_service", "collection_service"}
EVERYONE = {"gateway", *SERVICES}


def service_lines(running: Running) -> list[dict[str, Any]]:
    """The JSON log lines: Envoy's access log and both services' (Envoy's warnings are not JSON)."""
    lines = []
    for raw in running.log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            entry = json.loads(raw)
            if entry.get("service") in EVERYONE:
                lines.append(entry)
    return lines


def wait_for_lines(running: Running, request_id: str, services: set[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while True:
        mine = [e for e in service_lines(running) if e["request_id"] == request_id]
        if {e["service"] for e in mine} >= services or time.monotonic() > deadline:
            return mine
        time.sleep(0.05)


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(url, timeout=5).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_envoys_request_id_reaches_both_services_and_tags_their_log_lines(running: Running, frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    response = frontend.client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]  # Envoy generated it and echoes it back
    uuid.UUID(request_id)
    lines = wait_for_lines(running, request_id, EVERYONE)
    [gateway] = [e for e in lines if e["service"] == "gateway"]
    assert (gateway["method"], gateway["path"], gateway["status"]) == ("GET", "/users/me/", 200)
    # auth_service handled GetMe and forwarded the id on its ListMyCigars call to collection_service
    assert {(e["service"], e.get("grpc_method")) for e in lines} >= {
        ("auth_service", "/cigar.auth.v1.AuthService/GetMe"),
        ("collection_service", "/cigar.collection.v1.CollectionService/ListMyCigars"),
    }


def test_service_logs_are_json_lines_without_passwords_hashes_or_tokens(running: Running, frontend: Frontend) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    created, username = frontend.register(password=password)
    token = frontend.login(username, password).json()["access_token"]
    frontend.client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})
    frontend.client.get("/users/me/", headers={"Authorization": "Bearer not-a-jwt"})
    request_id = frontend.client.get("/cigars/").headers["x-request-id"]
    wait_for_lines(running, request_id, {"collection_service"})
    lines = service_lines(running)
    services = [e for e in lines if e["service"] in SERVICES]
    assert services and all(set(e) >= {"time", "level", "service", "logger", "request_id", "message"} for e in services)
    text = running.log_path.read_text(errors="replace")
    for secret in (password, token, token.split(".")[2], "$argon2", "$2b$", "not-a-jwt"):
        assert secret not in text


def test_each_service_exposes_rpc_counts_latencies_errors_and_pool_use(running: Running, frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    frontend.client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})
    frontend.client.get("/users/me/", headers={"Authorization": "Bearer not-a-jwt"})
    frontend.client.post(
        "/cigars/", json={"name": "", "brand": "B", "rating": 9}, headers={"Authorization": f"Bearer {token}"}
    )

    def count(found: dict, service: str, method: str, code: str) -> float:
        labels = frozenset({"grpc_service": service, "grpc_method": method, "grpc_code": code}.items())
        return found.get(("grpc_server_handled_total", labels), 0)

    # A failed call's status reaches the caller inside the server's abort(), a moment before the server counts
    # it: scrape again, a bounded while, until both failures are counted (the asserts below say what is missing).
    for _ in range(100):
        auth, collection = samples(running.metrics_url("auth")), samples(running.metrics_url("collection"))
        if count(auth, "cigar.auth.v1.AuthService", "GetMe", "UNAUTHENTICATED") and count(
            collection, "cigar.collection.v1.CollectionService", "CreateCigar", "INVALID_ARGUMENT"
        ):
            break
        time.sleep(0.05)
    assert count(auth, "cigar.auth.v1.AuthService", "GetMe", "OK") >= 1
    assert count(auth, "cigar.auth.v1.AuthService", "GetMe", "UNAUTHENTICATED") >= 1
    assert count(collection, "cigar.collection.v1.CollectionService", "ListMyCigars", "OK") >= 1
    assert count(collection, "cigar.collection.v1.CollectionService", "CreateCigar", "INVALID_ARGUMENT") >= 1
    latency = frozenset({"grpc_service": "cigar.auth.v1.AuthService", "grpc_method": "Token"}.items())
    assert auth[("grpc_server_handling_seconds_count", latency)] >= 1
    # both pools of each service: the statement driver's (the hot paths) and the sessions' (units of work)
    for found in (auth, collection):
        for pool in ("statements", "sessions"):
            assert ("db_pool_connections", frozenset({"pool": pool, "state": "checked_out"}.items())) in found
            assert found[("db_pool_connections", frozenset({"pool": pool, "state": "size"}.items()))] >= 1


def test_envoys_stats_are_scraped_beside_the_services_and_nothing_else_of_its_admin_is_exposed(
    running: Running, frontend: Frontend
) -> None:
    if not running.stack.config.envoy_metrics_port:
        return  # a stack started elsewhere (CIGAR_E2E_STACK) without the listener
    frontend.client.get("/cigars/")
    envoy = samples(running.metrics_url("envoy"))
    upstream = {labels for name, labels in envoy if name == "envoy_cluster_upstream_rq_total"}
    assert frozenset({"envoy_cluster_name": "collection_service"}.items()) in upstream
    base = running.metrics_url("envoy").removesuffix("/stats/prometheus")
    for path in ("/stats", "/config_dump", "/clusters", "/stats/prometheus/../config_dump"):
        assert httpx.get(base + path, timeout=5).status_code == 404, path
    assert httpx.post(base + "/quitquitquit", timeout=5).status_code == 404


def test_every_metric_the_dashboard_queries_is_one_the_stack_serves(running: Running, frontend: Frontend) -> None:
    from tests.deploy.test_dashboard import dashboard, graphs

    if not running.stack.config.envoy_metrics_port:
        return  # a stack started elsewhere (CIGAR_E2E_STACK) without Envoy's listener
    _, token = frontend.token_for_new_user()
    frontend.client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})
    texts = [httpx.get(running.metrics_url(service), timeout=5).text for service in ("auth", "collection", "envoy")]
    families = [family for text in texts for family in text_string_to_metric_families(text)]
    # as exposed: the parser adds _total to Envoy's counters, which Prometheus queries without it
    metrics = {f.name for f in families} | {s.name for f in families for s in f.samples}
    labels = {label for f in families for s in f.samples for label in s.labels}
    exprs = [target["expr"] for panel in graphs(dashboard()) for target in panel["targets"]]
    queried = {name for expr in exprs for name in re.findall(r"(\w+)\{", expr)}
    assert queried and queried <= metrics, queried - metrics
    grouped = {label for expr in exprs for group in re.findall(r"by \(([^)]*)\)", expr) for label in group.split(", ")}
    matched = {label for expr in exprs for label in re.findall(r"(\w+)!?=~?\"", expr)}
    # job is the label Prometheus adds to every series of a scrape target
    assert grouped | matched <= labels | {"job"}, (grouped | matched) - labels
