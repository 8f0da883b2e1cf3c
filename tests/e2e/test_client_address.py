"""Behind a proxy that appends X-Forwarded-For (nginx-ingress, a load balancer), every client is counted by its
own address: with GATEWAY_XFF_TRUSTED_HOPS=1 Envoy takes the address the proxy saw, and vouches for it to
auth_service. An attacker's failures and floods stay on the attacker's address."""

from __future__ import annotations

import http.client
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from scripts.stack import StackConfig, running
from tests.conftest import free_port

BURST = 12  # TOKEN_RATE_LIMIT_BURST of this stack: POST /token per address per minute
REGISTRATIONS = 4  # REGISTRATION_RATE_LIMIT_BURST of this stack: POST /users/ per address per hour
OWNER, ATTACKER = "127.0.0.3", "127.0.0.2"  # loopback addresses the clients connect from


class AppendingProxy(BaseHTTPRequestHandler):
    """A reverse proxy as nginx is configured in front of apps: X-Forwarded-For += the address it saw."""

    upstream: tuple[str, int]

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "x-forwarded-for")}
        forwarded = self.headers.get("x-forwarded-for")
        headers["X-Forwarded-For"] = f"{forwarded}, {self.client_address[0]}" if forwarded else self.client_address[0]
        conn = http.client.HTTPConnection(*self.upstream, timeout=20)
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            reply = conn.getresponse()
            payload = reply.read()
        finally:
            conn.close()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stack that trusts one proxy hop, and that proxy in front of it; the proxy's URL."""
    var: Path = tmp_path_factory.mktemp("behind-proxy")
    config = StackConfig.on_free_ports(
        var,
        extra_env={
            "GATEWAY_XFF_TRUSTED_HOPS": "1",
            "TOKEN_RATE_LIMIT_BURST": str(BURST),
            "REGISTRATION_RATE_LIMIT_BURST": str(REGISTRATIONS),
        },
    )
    with running(config, var / "stack.log"):
        handler = type("Proxy", (AppendingProxy,), {"upstream": ("127.0.0.1", config.gateway_port)})
        proxy = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{proxy.server_address[1]}"
        finally:
            proxy.shutdown()
            proxy.server_close()
            thread.join(5)


def client(base_url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=20)


def login(c: httpx.Client, name: str, password: str, claim: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if claim:  # what an attacker sends to pass for someone else
        headers["x-forwarded-for"] = claim
    return c.post("/token", content=f"grant_type=password&username={name}&password={password}", headers=headers)


def register(c: httpx.Client) -> str:
    name = f"px_{uuid.uuid4().hex[:8]}"
    reply = c.post("/users/", json={"username": name, "email": f"{name}@example.com", "password": "testpassword"})
    assert reply.status_code == 201, reply.text
    return name


def test_an_attackers_failed_logins_behind_the_proxy_do_not_lock_out_the_owner(proxied: str) -> None:
    with client(proxied, OWNER) as owner, client(proxied, ATTACKER) as attacker:
        name = register(owner)
        # the attacker even claims the owner's address: Envoy trusts one hop only, the proxy's
        statuses = [login(attacker, name, f"wrong {i}", claim=OWNER).status_code for i in range(6)]
        assert statuses == [400] * 5 + [429]
        assert login(owner, name, "testpassword").status_code == 200


def test_one_clients_flood_of_logins_is_limited_without_limiting_anyone_else(proxied: str) -> None:
    with client(proxied, OWNER) as owner, client(proxied, "127.0.0.4") as flooder:
        name = register(owner)
        statuses = [login(flooder, f"nobody_{i}", "whatever").status_code for i in range(BURST + 3)]
        assert statuses == [400] * BURST + [429] * 3  # unknown users, then Envoy's per-address limit
        limited = login(flooder, name, "testpassword")
        assert limited.status_code == 429 and limited.headers.get("retry-after")
        assert login(owner, name, "testpassword").status_code == 200


def test_registrations_are_limited_per_address_without_limiting_anyone_else(proxied: str) -> None:
    with client(proxied, "127.0.0.5") as script, client(proxied, "127.0.0.6") as person:
        names = [f"bulk_{uuid.uuid4().hex[:8]}" for _ in range(REGISTRATIONS + 1)]
        statuses = [
            script.post("/users/", json={"username": n, "email": f"{n}@example.com", "password": "testpassword"})
            for n in names
        ]
        assert [r.status_code for r in statuses] == [201] * REGISTRATIONS + [429]
        assert statuses[-1].headers.get("retry-after") == "3600"
        register(person)  # another address registers as usual
