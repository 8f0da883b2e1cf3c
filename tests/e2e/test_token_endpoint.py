"""POST /token through the gateway: RFC 6749 answers, throttling with 429 + Retry-After, Envoy's outer limit."""

from __future__ import annotations

import itertools

import httpx
import pytest

from gateway.render import DEFAULTS
from tests.e2e.conftest import Frontend, Running

BURST = int(DEFAULTS["TOKEN_RATE_LIMIT_BURST"])  # Envoy's /token requests per address per minute

# Each test hammers from its own loopback address (all of 127/8 is local), so that the per-address
# counters of the other tests, which all come from 127.0.0.1, are never touched.
_addresses = itertools.count(10)


def client_from_new_address(running: Running) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=f"127.0.0.{next(_addresses)}")
    return httpx.Client(base_url=running.url, transport=transport, timeout=10)


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/token", data={"grant_type": "password", "username": username, "password": password})


def test_a_successful_login_is_not_cached_and_says_when_it_expires(frontend: Frontend) -> None:
    _, username = frontend.register()
    response = frontend.login(username)
    assert response.status_code == 200
    assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 600
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}


@pytest.mark.parametrize("form", ["grant_type=password&password=x", "grant_type=password&username=x", ""])
def test_a_missing_username_or_password_is_400_invalid_request(frontend: Frontend, form: str) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = frontend.client.post("/token", content=form, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


def test_repeated_bad_passwords_get_429_with_retry_after_while_the_owner_still_logs_in(
    running: Running, frontend: Frontend
) -> None:
    _, username = frontend.register()
    assert frontend.login(username).status_code == 200  # the owner's own address is now known
    with client_from_new_address(running) as attacker:
        statuses = [login(attacker, username, "not-the-password").status_code for _ in range(5)]
        refused = login(attacker, username, "testpassword")  # even the right password, from there
    assert statuses == [400] * 5
    assert refused.status_code == 429, refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 60
    body = refused.json()
    assert body["error"] == "too_many_attempts" and "try again" in body["detail"]
    assert frontend.login(username).status_code == 200


def test_envoy_limits_token_requests_per_address_as_an_outer_guard(running: Running, frontend: Frontend) -> None:
    with client_from_new_address(running) as flooder:
        # invalid requests: answered at once by auth_service, so only Envoy's bucket is spent. The bucket
        # refills continuously (BURST per minute), so a few more than BURST may pass while we send.
        statuses, limited = [], None
        for _ in range(2 * BURST):
            response = flooder.post("/token", data={"username": "x"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                limited = response
                break
    assert limited is not None, "Envoy never limited the flood"
    assert set(statuses[:BURST]) == {400}
    assert limited.headers["retry-after"] == "60"
    assert limited.json()["detail"]
    _, username = frontend.register()
    assert frontend.login(username).status_code == 200  # other addresses are not affected
