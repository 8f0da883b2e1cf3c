"""Promise 6, limits: Envoy refuses bodies over 64 KiB with a JSON 413 before any service sees them, and slow
or stalled clients hold no service resources (Envoy buffers whole requests; its timeouts close them)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from gateway.render import render
from tests.conftest import GATEWAY_TEST_SECRET
from tests.reliability.conftest import Reliability, assert_json_detail, new_user
from tests.reliability.traffic import FIGURES

LIMIT = 64 * 1024
UPSTREAM = ("cluster.auth_service.upstream_rq_total", "cluster.collection_service.upstream_rq_total")


def upstream_requests(rel: Reliability) -> tuple[int, ...]:
    return tuple(rel.envoy_stat(name) for name in UPSTREAM)


def chunks(size: int) -> Iterator[bytes]:
    yield b'{"name":"'
    for _ in range(size // 4096):
        yield b"x" * 4096
    yield b'"}'


@pytest.mark.parametrize("path", ["/cigars/", "/users/", "/token", "/cigar.collection.v1.CollectionService/ListCigars"])
@pytest.mark.parametrize("size", [LIMIT + 1, 8 * 1024 * 1024])
def test_bodies_over_64_kib_get_a_json_413_from_envoy_and_never_reach_a_service(
    rel: Reliability, path: str, size: int
) -> None:
    body = b'{"name":"' + b"x" * (size - 11) + b'"}'
    with httpx.Client(base_url=rel.url, timeout=10) as client:
        before = upstream_requests(rel)
        sized = client.post(path, content=body, headers={"content-type": "application/json"})
        chunked = client.post(path, content=chunks(size), headers={"content-type": "application/json"})
        after = upstream_requests(rel)
    for response in (sized, chunked):
        assert response.status_code == 413, response.text[:200]
        assert_json_detail(response)
    assert after == before, "an oversized body reached a service"


def test_the_largest_valid_cigar_fits_under_the_limit(rel: Reliability) -> None:
    # 4-byte UTF-8 characters at every text field's maximum length: the biggest body a client may need.
    cigar = {"name": "🚬" * 100, "brand": "🚬" * 100, "origin": "🚬" * 100, "flavor_notes": "🚬" * 2000, "rating": 5}
    with httpx.Client(base_url=rel.url, timeout=10) as client:
        _, token = new_user(client)
        response = client.post("/cigars/", json=cigar, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text[:300]
    assert response.json()["flavor_notes"] == cigar["flavor_notes"]


def stalled_clients(rel: Reliability, count: int) -> list[socket.socket]:
    """Half stop in the middle of their headers, half after 10 of 1000 promised body bytes."""
    sockets = []
    for i in range(count):
        sock = socket.create_connection((rel.stack.config.gateway_host, rel.stack.config.gateway_port), timeout=5)
        if i % 2:
            sock.sendall(b"POST /cigars/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        else:
            sock.sendall(b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b'{"username"')
        sockets.append(sock)
    return sockets


def test_stalled_clients_hold_no_service_resources_and_do_not_slow_anyone_else(rel: Reliability) -> None:
    before = upstream_requests(rel)
    sockets = stalled_clients(rel, 64)
    try:
        time.sleep(0.3)
        assert upstream_requests(rel) == before, "a half-sent request reached a service"
        assert rel.envoy_stat("cluster.collection_service.upstream_rq_active") == 0
        assert rel.envoy_stat("cluster.auth_service.upstream_rq_active") == 0
        with httpx.Client(base_url=rel.url, timeout=5) as client:
            started = time.monotonic()
            answers = [client.get("/cigars/").status_code for _ in range(20)]
            elapsed = time.monotonic() - started
        assert answers == [200] * 20
    finally:
        for sock in sockets:
            sock.close()
    FIGURES["limits: 20 reads beside 64 stalled clients took (s)"] = round(elapsed, 3)


def test_every_listener_and_route_has_a_timeout_so_nothing_is_held_forever() -> None:
    config = yaml.safe_load(render({}, secret=GATEWAY_TEST_SECRET))
    for listener in config["static_resources"]["listeners"]:
        hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
        for key in ("request_timeout", "request_headers_timeout", "stream_idle_timeout"):
            assert hcm.get(key), f"{listener['name']} has no {key}"
        assert hcm["common_http_protocol_options"].get("idle_timeout")
        for host in hcm["route_config"]["virtual_hosts"]:
            for route in host["routes"]:
                assert "direct_response" in route or route["route"].get("timeout"), route
    for cluster in config["static_resources"]["clusters"]:
        assert cluster.get("connect_timeout"), cluster["name"]
