"""Promise 5, load without loss: 32 clients of mixed creates, reads, updates and deletes get no error, every
read agrees with what the client was acknowledged, the database ends exactly as acknowledged, and no process
keeps growing in memory. CIGAR_LOAD_SECONDS=30 is the documented run; `make test` uses a shorter default."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx

from tests.reliability.conftest import PASSWORD, Reliability
from tests.reliability.traffic import FIGURES

CLIENTS = 32
SECONDS = float(os.environ.get("CIGAR_LOAD_SECONDS", "12"))
PROCESSES = ("envoy", "auth_service", "collection_service")
STORED = "SELECT id, name, brand, origin, flavor_notes, rating, owner_id FROM cigars WHERE owner_id = ANY($1)"


@dataclass
class Client:
    """One user's session and its ledger: every cigar as the gateway last acknowledged it."""

    http: httpx.AsyncClient
    user_id: int = 0
    ledger: dict[int, dict] = field(default_factory=dict)
    sent: int = 0
    errors: list[str] = field(default_factory=list)

    async def request(self, method: str, path: str, expect: int, **kwargs: object) -> httpx.Response | None:
        self.sent += 1
        try:
            response = await self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.errors.append(f"{method} {path}: {exc!r}")
            return None
        if response.status_code != expect:
            self.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            return None
        return response

    async def sign_up(self) -> None:
        name = f"load_{uuid.uuid4().hex[:12]}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        created = await self.request("POST", "/users/", 201, json=body)
        token = await self.request("POST", "/token", 200, data={"username": name, "password": PASSWORD})
        assert created is not None and token is not None, self.errors
        self.user_id = created.json()["id"]
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    # --- the operations; each checks its answer against the ledger -------------------------------------
    async def create(self) -> None:
        body = {"name": f"Load {uuid.uuid4().hex[:6]}", "brand": "Davidoff", "origin": "Dominican Republic",
                "flavor_notes": "cedar ✓", "rating": random.randint(1, 5)}  # fmt: skip
        response = await self.request("POST", "/cigars/", 201, json=body)
        if response is not None:
            cigar = response.json()
            if {k: cigar[k] for k in body} != body or cigar["owner_id"] != self.user_id:
                self.errors.append(f"created {cigar} from {body}")
            self.ledger[cigar["id"]] = cigar

    async def list_page(self) -> None:
        response = await self.request("GET", "/cigars/", 200, params={"skip": random.randint(0, 200), "limit": 20})
        if response is not None and not isinstance(response.json(), list):
            self.errors.append(f"GET /cigars/ answered {response.text[:100]}")

    async def me(self) -> None:
        response = await self.request("GET", "/users/me/", 200)
        if response is not None and response.json()["cigars"] != [self.ledger[i] for i in sorted(self.ledger)]:
            self.errors.append("GET /users/me/ disagrees with what this client was acknowledged")

    async def read_one(self) -> None:
        cigar_id = random.choice(list(self.ledger))
        response = await self.request("GET", f"/cigars/{cigar_id}", 200)
        if response is not None and response.json() != self.ledger[cigar_id]:
            self.errors.append(f"GET /cigars/{cigar_id} = {response.text[:200]}, acknowledged {self.ledger[cigar_id]}")

    async def update(self) -> None:
        cigar_id = random.choice(list(self.ledger))
        change = {"rating": random.randint(1, 5), "flavor_notes": f"revised {uuid.uuid4().hex[:6]}"}
        response = await self.request("PATCH", f"/cigars/{cigar_id}", 200, json=change)
        if response is not None:
            cigar = response.json()
            if {k: cigar[k] for k in change} != change:
                self.errors.append(f"PATCH /cigars/{cigar_id} answered {cigar} for {change}")
            self.ledger[cigar_id] = cigar

    async def delete(self) -> None:
        cigar_id = random.choice(list(self.ledger))
        if await self.request("DELETE", f"/cigars/{cigar_id}", 204) is not None:
            del self.ledger[cigar_id]


async def run_client(client: Client, deadline: float) -> None:
    while time.monotonic() < deadline:
        if not client.ledger:
            await client.create()
            continue
        operation = random.choices(
            [client.create, client.read_one, client.update, client.delete, client.list_page, client.me],
            weights=[30, 15, 15, 10, 15, 15],
        )[0]
        await operation()


async def sample_rss(rel: Reliability, samples: dict[str, list[int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for name in PROCESSES:
            samples[name].append(rel.rss_kib(name))
        await asyncio.sleep(0.5)


async def stored_cigars(rel: Reliability, owners: list[int]) -> dict[int, dict]:
    conn = await asyncpg.connect(rel.pg.url("collection"), timeout=5)
    try:
        rows = await conn.fetch(STORED, owners)
    finally:
        await conn.close()
    return {r["id"]: dict(r) for r in rows}


async def test_32_clients_of_mixed_traffic_lose_nothing_get_no_error_and_memory_levels_off(rel: Reliability) -> None:
    limits = httpx.Limits(max_connections=1)
    clients = [Client(httpx.AsyncClient(base_url=rel.url, timeout=10, limits=limits)) for _ in range(CLIENTS)]
    try:
        await asyncio.gather(*(c.sign_up() for c in clients))
        samples: dict[str, list[int]] = {name: [] for name in PROCESSES}
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(rel, samples, stop))
        started = time.monotonic()
        await asyncio.gather(*(run_client(c, started + SECONDS) for c in clients))
        elapsed = time.monotonic() - started
        stop.set()
        await sampler
    finally:
        await asyncio.gather(*(c.http.aclose() for c in clients))

    errors = [e for c in clients for e in c.errors]
    sent = sum(c.sent for c in clients)
    assert not errors, f"{len(errors)} errors of {sent} requests, e.g. {errors[:5]}"
    acknowledged = {cid: cigar for c in clients for cid, cigar in c.ledger.items()}
    assert await stored_cigars(rel, [c.user_id for c in clients]) == acknowledged

    growth = {}
    for name, rss in samples.items():
        settled = rss[len(rss) // 3]  # after warm-up: caches, pools and allocator arenas are filled
        growth[name] = max(rss[-3:]) - settled
        assert growth[name] < max(settled * 0.25, 24 * 1024), f"{name} RSS kept growing: {rss}"
    FIGURES["load: clients / seconds / requests / errors / cigars in DB = acknowledged"] = (
        f"{CLIENTS} / {elapsed:.1f} / {sent} / 0 / {len(acknowledged)}"
    )
    FIGURES["load: requests per second"] = round(sent / elapsed)
    FIGURES["load: RSS start→end MiB (growth after warm-up)"] = ", ".join(
        f"{n} {samples[n][0] / 1024:.0f}→{samples[n][-1] / 1024:.0f} (+{growth[n] / 1024:.1f})" for n in PROCESSES
    )
