"""Promise 2, the database restarts: requests during the outage fail fast with 503, the services reconnect by
themselves (no process restart), and every write acknowledged with 201 is in the database afterwards."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import asyncpg
import httpx

from tests.reliability.conftest import PASSWORD, Reliability, assert_json_detail, new_user
from tests.reliability.traffic import FAST, FIGURES, Outcome, has_json_detail, slowest_503, timed

WRITERS = 6


class Writers:
    """Threads that create cigars (each as its own user) and register users, remembering every 201."""

    def __init__(self, url: str, tokens: list[str]) -> None:
        self.url = url
        self.outcomes: list[Outcome] = []
        self.cigars: dict[int, dict] = {}  # acknowledged: id -> the body answered with 201
        self.users: dict[int, str] = {}  # acknowledged: id -> username
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._cigars, args=(t,)) for t in tokens]
        self._threads.append(threading.Thread(target=self._users))

    def _record(self, name: str, started: float, response: httpx.Response | None) -> None:
        status = response.status_code if response is not None else 0
        detail = response is not None and has_json_detail(response)
        with self._lock:
            self.outcomes.append(Outcome(name, started, time.monotonic() - started, status, detail))

    def _send(self, client: httpx.Client, name: str, path: str, **kwargs: object) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = client.post(path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError:
            response = None
        self._record(name, started, response)
        return response

    def _cigars(self, token: str) -> None:
        with httpx.Client(base_url=self.url, timeout=5, headers={"Authorization": f"Bearer {token}"}) as client:
            while not self._stop.is_set():
                body = {"name": f"c-{uuid.uuid4().hex[:8]}", "brand": "Oliva", "origin": "Nicaragua", "rating": 3}
                response = self._send(client, "create", "/cigars/", json=body)
                if response is not None and response.status_code == 201:
                    with self._lock:
                        self.cigars[response.json()["id"]] = response.json()

    def _users(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while not self._stop.is_set():
                name = f"rel_{uuid.uuid4().hex[:12]}"
                body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
                response = self._send(client, "register", "/users/", json=body)
                if response is not None and response.status_code == 201:
                    with self._lock:
                        self.users[response.json()["id"]] = name

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def created_since(self, moment: float) -> bool:
        with self._lock:
            return any(o.status == 201 and o.started >= moment for o in self.outcomes if o.name == "create")


def rows(url: str, query: str) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return await conn.fetch(query)
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_database_restart_fails_fast_with_503_recovers_without_restarts_and_keeps_every_acknowledged_write(
    rel: Reliability,
) -> None:
    pids = {name: rel.pid(name) for name in ("envoy", "auth_service", "collection_service")}
    with httpx.Client(base_url=rel.url, timeout=5) as client:
        tokens = [new_user(client)[1] for _ in range(WRITERS)]
    with Writers(rel.url, tokens) as writers:
        time.sleep(1.0)
        down_at = time.monotonic()
        rel.pg.stop()
        with httpx.Client(base_url=rel.url, timeout=5) as probe:  # requests that need the database fail fast
            login = {"username": "someone", "password": PASSWORD}
            probes = [timed(probe, "GET", "/cigars/"), timed(probe, "POST", "/token", data=login)]
        time.sleep(2.0)
        rel.pg.start()
        up_at = time.monotonic()
        while not writers.created_since(up_at):
            assert time.monotonic() - up_at < 20, "no cigar was created after the database came back"
            time.sleep(0.02)
        recovered_at = time.monotonic()
        time.sleep(1.0)

    outcomes = writers.outcomes
    assert {o.status for o in outcomes} <= {201, 503}, sorted({o.status for o in outcomes})
    assert all(o.has_detail for o in outcomes if o.status == 503)
    during = [o for o in outcomes if down_at <= o.started < up_at]
    assert during and any(o.status == 503 for o in during), "the outage was never seen"
    for response, elapsed in probes:
        assert response.status_code == 503 and elapsed < FAST, (response.text, elapsed)
        assert_json_detail(response)
    failed = [o for o in during if o.status == 503]
    # nothing waited for the database to come back (a registration's own password hashing may be slow)
    assert max(o.elapsed for o in during) < up_at - down_at, "a request hung through the outage"
    assert {name: rel.pid(name) for name in pids} == pids, "a process was restarted"
    assert all(rel.alive(name) for name in pids)

    cigar_rows = rows(
        rel.pg.url("collection"), "SELECT id, name, brand, origin, flavor_notes, rating, owner_id FROM cigars"
    )
    stored = {r["id"]: dict(r) for r in cigar_rows}
    for cigar_id, acked in writers.cigars.items():
        assert stored.get(cigar_id) == acked, f"acknowledged cigar {cigar_id} is not stored as answered"
    usernames = {r["id"]: r["username"] for r in rows(rel.pg.url("auth"), "SELECT id, username FROM users")}
    for user_id, name in writers.users.items():
        assert usernames.get(user_id) == name, f"acknowledged user {name} is missing"

    FIGURES["database restart: writes sent / acknowledged (201) / 503 / other errors"] = (
        f"{len(outcomes)} / {len(writers.cigars) + len(writers.users)} / {sum(o.status == 503 for o in outcomes)} / 0"
    )
    FIGURES["database restart: slowest 503 during the outage (s)"] = slowest_503(failed)
    FIGURES["database restart: outage (stop+start) / back up → first 201 (s)"] = (
        f"{up_at - down_at:.2f} / {recovered_at - up_at:.2f}"
    )
