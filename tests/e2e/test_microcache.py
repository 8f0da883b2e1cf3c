"""The gateway's micro-cache (GATEWAY_MICROCACHE_SECONDS) on a stack of its own per database engine: public
pages of GET /cigars/ are answered without a service call for at most that long, conditional requests get a
304 from the cache, and nothing private (GET /users/me/, requests with Authorization) is ever kept or shared.
Service calls are counted on collection_service's own metrics (grpc_server_started_total)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from scripts.stack import Stack, StackConfig, free_port, running
from tests.conftest import BACKENDS, MANY_REGISTRATIONS, Databases, database_url
from tests.e2e.conftest import Frontend
from tests.e2e.error_shape import HOOKS

TTL = 1


@pytest.fixture(scope="module", params=BACKENDS)
async def cached_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[Stack]:
    var = tmp_path_factory.mktemp(f"microcache-{request.param}")
    config = StackConfig.on_free_ports(
        var,
        collection_metrics_port=free_port(),
        auth_database_url=await database_url(request.param, "auth", var, pg_databases),
        collection_database_url=await database_url(request.param, "collection", var, pg_databases),
        extra_env={"GATEWAY_MICROCACHE_SECONDS": str(TTL), **MANY_REGISTRATIONS},
    )
    with running(config, var / "stack.log") as stack:
        yield stack


def calls(stack: Stack, method: str) -> int:
    """How many calls of `method` collection_service has started (its Prometheus counter)."""
    text = httpx.get(f"http://127.0.0.1:{stack.config.collection_metrics_port}/metrics", timeout=5).text
    found = re.search(rf'grpc_server_started_total\{{grpc_method="{method}",[^}}]*\}} (\S+)', text)
    return int(float(found[1])) if found else 0


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def warm(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Ask until a kept copy answers (each Envoy worker keeps its own): the answer with an Age header."""
    for _ in range(20):
        response = client.get(url, headers=headers)
        if "age" in response.headers:
            return response
    raise AssertionError(f"{url} was never answered from the micro-cache")


def test_public_pages_are_answered_without_a_service_call_and_304_from_the_cache(cached_stack: Stack) -> None:
    with httpx.Client(base_url=cached_stack.base_url, timeout=10, event_hooks=HOOKS) as client:
        url = "/cigars/?limit=5&q=microcache-a"
        first = warm(client, url)
        before, started = calls(cached_stack, "ListCigars"), time.monotonic()
        gzip = {"Accept-Encoding": "gzip"}
        pages = [client.get(url, headers=gzip) for _ in range(20)]
        # A kept page expires on the gateway clock's whole seconds: each second that ends meanwhile (more of them
        # on a slow machine) lets one request per Envoy worker (two) ask the service again, the others still
        # getting the kept page.
        seconds = int((time.monotonic() - started) // TTL) + 1
        assert all(p.status_code == 200 and p.json() == first.json() for p in pages)
        misses = sum("age" not in p.headers for p in pages)
        # every answer without an Age went to the service, and only those
        assert calls(cached_stack, "ListCigars") - before == misses
        assert misses <= 2 * seconds, (misses, seconds)
        conditional = warm(client, url, {"If-None-Match": first.headers["etag"]})
        assert (conditional.status_code, conditional.content) == (304, b"")


def test_a_kept_page_is_at_most_ttl_seconds_old(cached_stack: Stack) -> None:
    with httpx.Client(base_url=cached_stack.base_url, timeout=10, event_hooks=HOOKS) as client:
        frontend = Frontend(client)
        user_id, token = frontend.token_for_new_user()
        url = f"/cigars/?owner_id={user_id}"
        assert warm(client, url).json() == []
        client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(token))
        time.sleep(TTL + 0.1)
        assert [c["owner_id"] for c in client.get(url).json()] == [user_id]
        # a caller who must see their own write at once reads it with their token (never cached)
        client.post("/cigars/", json={"name": "m", "brand": "b", "rating": 3}, headers=auth(token))
        assert len(client.get(url, headers=auth(token)).json()) == 2


def test_requests_with_authorization_are_never_answered_from_the_cache(cached_stack: Stack) -> None:
    with httpx.Client(base_url=cached_stack.base_url, timeout=10, event_hooks=HOOKS) as client:
        _, token = Frontend(client).token_for_new_user()
        url = "/cigars/?limit=3&q=microcache-b"
        warm(client, url)
        before = calls(cached_stack, "ListCigars")
        answers = [client.get(url, headers=auth(token)) for _ in range(5)]
        assert not any("age" in a.headers for a in answers)
        assert calls(cached_stack, "ListCigars") - before == 5


def test_users_me_is_never_kept_or_shared(cached_stack: Stack) -> None:
    with httpx.Client(base_url=cached_stack.base_url, timeout=10, event_hooks=HOOKS) as client:
        frontend = Frontend(client)
        alice, alice_token = frontend.token_for_new_user()
        bob, bob_token = frontend.token_for_new_user()
        before = calls(cached_stack, "ListMyCigars")
        for _ in range(3):
            assert client.get("/users/me/", headers=auth(alice_token)).json()["id"] == alice
            assert client.get("/users/me/", headers=auth(bob_token)).json()["id"] == bob
        assert calls(cached_stack, "ListMyCigars") - before == 6  # each one asked the services
        client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(alice_token))
        me = client.get("/users/me/", headers=auth(alice_token))
        assert len(me.json()["cigars"]) == 1 and "age" not in me.headers
        assert me.headers["cache-control"] == "private, no-cache"
        assert client.get("/users/me/").status_code == 401  # no token, no copy of anyone's
