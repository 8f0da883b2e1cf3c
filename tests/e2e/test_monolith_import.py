"""The monolith import end to end, on SQLite and on PostgreSQL: a database with the FastAPI monolith's schema
(scripts/fake_monolith.py: ~1,200 users, ~12,000 cigars, clean rows and the dirty ones its API let in) is imported
by `python -m monolith_import` into a running stack of our own, where users had already registered. Every user's
and cigar's outcome is checked in the two databases; a sample of users logs in through Envoy with their old
password and sees exactly their cigars, with the monolith's ids.

The story runs once per engine, in the fixture (each step's report and database state are kept); each test
checks one thing it shows."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from scripts.fake_monolith import PLACEHOLDER, FakeMonolith, build, password, write
from scripts.stack import ROOT, Stack, StackConfig, prepare, start
from tests.conftest import BACKENDS, Databases, database_url
from tests.e2e.conftest import Frontend

BEFORE = ("newcomer", "mixedcase")  # registered before the import: ids 1 and 2; "mixedcase" is user 23's name
CIGARS_BEFORE = 6  # newcomer's cigars, ids 1-6: monolith cigar 6 (owner imported) finds its id taken
SAMPLE = [3, 4, 5, 10, 12, 15, 16, 19, 22, 40, 333, 777, 1150]  # 3-5: bcrypt cost 12; 10-22: fixed rows
FIX = ["--on-invalid=fix"]


@dataclass
class Run:
    status: int
    out: str
    err: str


@dataclass
class World:
    backend: str
    stack: Stack
    monolith: FakeMonolith
    source: str
    urls: dict[str, str]
    runs: dict[str, Run] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    killed_at: dict[str, int] = field(default_factory=dict)

    @property
    def taken_users(self) -> set[int]:
        return {2, 23} | ({1} if self.backend == "postgres" else set())

    def env(self) -> dict[str, str]:
        return {**self.stack.config.service_env(), "PYTHONPATH": str(ROOT)}

    def run(self, *args: str) -> Run:
        done = subprocess.run([sys.executable, "-m", "monolith_import", "--from", self.source, *args],
                              env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
        return Run(done.returncode, done.stdout, done.stderr)


async def query(url: str, sql: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(sql)))
    finally:
        await engine.dispose()


async def counts(world: World) -> dict[str, int]:
    found = {}
    for service, table in (("auth", "users"), ("auth", "imported_users"), ("collection", "cigars"),
                           ("collection", "imported_cigars")):  # fmt: skip
        [(n,)] = await query(world.urls[service], f"SELECT count(*) FROM {table}")  # noqa: S608
        found[table] = n
    return found


def killed_half_way(world: World) -> int:
    """Start an import, SIGKILL it (by its PID) once it has written some cigars; the cigars it reported written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "monolith_import", "--from", world.source, *FIX, "--batch-size", "100",
         "--pause", "0.05"], env=world.env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("cigars:") and not line.rstrip().endswith(" 0 written"):
                os.kill(proc.pid, signal.SIGKILL)
                return int(line.rsplit(",", 1)[1].split()[0].replace(",", ""))
        raise AssertionError(f"the import ended (status {proc.wait()}) before it could be killed")
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[World]:
    backend = request.param
    var = tmp_path_factory.mktemp(f"import-{backend}")
    urls = {service: await database_url(backend, f"import_{service}", var, pg_databases)
            for service in ("auth", "collection")}  # fmt: skip
    monolith = build(users=1200, cigars=12000, sqlite=backend == "sqlite")
    source = f"sqlite:///{var / 'monolith.db'}" if backend == "sqlite" else (
        (await pg_databases.create("cigar_monolith")).replace("+asyncpg", ""))  # fmt: skip
    await asyncio.to_thread(asyncio.run, write(monolith, source))
    config = StackConfig.on_free_ports(var, auth_database_url=urls["auth"], collection_database_url=urls["collection"])
    await asyncio.to_thread(prepare, config)
    with (var / "stack.log").open("wb") as log:
        stack = await asyncio.to_thread(start, config, log)
        try:
            world = World(backend, stack, monolith, source, urls)
            await asyncio.to_thread(register_before_the_import, world)
            await tell_the_story(world)
            yield world
        finally:
            stack.stop()


def register_before_the_import(world: World) -> None:
    with httpx.Client(base_url=world.stack.base_url, timeout=10) as client:
        frontend = Frontend(client)
        for name in BEFORE:
            assert frontend.register(name, "a new password")[0].status_code == 201
        token = frontend.login("newcomer", "a new password").json()["access_token"]
        for i in range(CIGARS_BEFORE):
            body = {"name": f"new {i}", "brand": "b", "rating": 3}
            assert client.post("/cigars/", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 201


async def tell_the_story(world: World) -> None:
    world.counts["before"] = await counts(world)
    world.runs["dry"] = await asyncio.to_thread(world.run, *FIX, "--dry-run")
    world.counts["after dry run"] = await counts(world)
    world.runs["report"] = await asyncio.to_thread(world.run)
    world.counts["after report"] = await counts(world)
    world.killed_at["cigars"] = await asyncio.to_thread(killed_half_way, world)
    world.counts["after kill"] = await counts(world)
    world.runs["complete"] = await asyncio.to_thread(world.run, *FIX)
    world.counts["complete"] = await counts(world)
    world.runs["again"] = await asyncio.to_thread(world.run, *FIX)
    world.counts["again"] = await counts(world)


def expected_cigars(world: World) -> dict[int, dict[str, Any]]:
    expected = world.monolith.expected_cigars(world.taken_users)
    return {i: row for i, row in expected.items() if row is not None and i > CIGARS_BEFORE}


def test_a_dry_run_and_a_report_that_finds_problems_write_nothing(world: World) -> None:
    assert world.runs["dry"].status == 0 and "Dry run: nothing was written." in world.runs["dry"].out
    assert world.runs["report"].status == 3 and "Nothing written" in world.runs["report"].out
    assert world.counts["before"] == world.counts["after dry run"] == world.counts["after report"]
    assert world.counts["before"] == {"users": 2, "imported_users": 0, "cigars": CIGARS_BEFORE, "imported_cigars": 0}


def test_the_dry_run_reports_what_the_real_run_then_does(world: World) -> None:
    dry, done = world.runs["dry"].out, world.runs["complete"].out
    written = world.counts["complete"]["imported_cigars"]
    assert f"{written:,}  would be imported" in dry
    assert f"{written - world.killed_at['cigars']:,}  imported" in done


def test_a_run_killed_half_way_is_completed_by_the_next(world: World) -> None:
    partial = world.counts["after kill"]
    assert 0 < world.killed_at["cigars"] <= partial["imported_cigars"] < len(expected_cigars(world))
    assert world.runs["complete"].status == 0, world.runs["complete"].err[-2000:]
    assert "already imported by an earlier run" in world.runs["complete"].out
    assert world.counts["complete"]["imported_cigars"] == len(expected_cigars(world))


def test_a_second_run_changes_nothing_and_says_so(world: World) -> None:
    again = world.runs["again"]
    assert again.status == 0 and again.out.rstrip().endswith(
        "Nothing to import: every row that can be imported was imported by an earlier run."
    )
    assert world.counts["again"] == world.counts["complete"]


def test_the_report_counts_users_cigars_and_each_kind_of_problem(world: World) -> None:
    report = world.runs["complete"].out
    assert f"users: {len(world.monolith.users):,} in the monolith" in report
    assert f"cigars: {len(world.monolith.cigars):,} in the monolith" in report
    for kind, n in (("username_invalid", 3), ("username_missing", 1), ("username_duplicate", 1),
                    ("email_duplicate", 1), ("password_hash_invalid", 2), ("rating_out_of_range", 4),
                    ("text_too_long", 2), ("owner_missing", 1)):  # fmt: skip
        assert f"{n:>9,}  {kind}" in world.runs["dry"].out, kind
    assert "user 10: username_invalid ('josé garcía'" in world.runs["dry"].out
    if world.backend == "sqlite":
        assert f"{5:>9,}  owner_posted_without_token" in world.runs["dry"].out
    else:
        assert "user 1 owns" in world.runs["dry"].out  # the anonymous cigars' owner exists: a notice


async def test_every_user_is_imported_as_the_monolith_had_them_or_as_fixed_or_is_left_out(world: World) -> None:
    rows = await query(world.urls["auth"], "SELECT id, username, email, email_verified FROM users ORDER BY id")
    found = {r[0]: (r[1], r[2]) for r in rows if r[0] > len(BEFORE)}  # 1 and 2 registered before the import
    expected = world.monolith.expected_users(world.taken_users)
    assert {i: found.get(i) for i in expected if i > len(BEFORE)} == {i: v for i, v in expected.items() if i > 2}
    assert expected[20] is None and expected[21] is None and expected[23] is None  # really left out, so checked
    assert not any(r[3] for r in rows)  # not verified: the monolith never proved an address
    assert found[16][1] == PLACEHOLDER.format(16)


async def test_every_cigar_is_imported_with_its_id_and_owner_or_as_fixed_or_is_left_out(world: World) -> None:
    rows = await query(world.urls["collection"],
                       "SELECT id, name, brand, origin, flavor_notes, rating, owner_id FROM cigars")  # fmt: skip
    highest = max(c["id"] for c in world.monolith.cigars)  # above: cigars created since the import
    found = {r[0]: dict(zip(("name", "brand", "origin", "flavor_notes", "rating", "owner_id"), r[1:], strict=True))
             for r in rows if CIGARS_BEFORE < r[0] <= highest}  # fmt: skip
    assert found == expected_cigars(world)


async def test_users_and_cigars_of_the_new_system_are_never_overwritten(world: World) -> None:
    users = await query(world.urls["auth"], "SELECT id, username FROM users WHERE id IN (1, 2)")
    assert sorted(users) == [(1, "newcomer"), (2, "mixedcase")]
    cigars = await query(world.urls["collection"], f"SELECT id, name, owner_id FROM cigars WHERE id <= {CIGARS_BEFORE}")  # noqa: S608
    assert sorted(cigars) == [(i + 1, f"new {i}", 1) for i in range(CIGARS_BEFORE)]
    report = world.runs["complete"].out
    assert "user 2: left out: the id is taken in the new system" in report
    assert "user 23: left out: the username is taken in the new system" in report
    assert "cigar 6: " in report and "the id is taken in the new system" in report


def test_sampled_users_log_in_through_envoy_with_their_old_password_and_see_exactly_their_cigars(
    world: World,
) -> None:
    expected = expected_cigars(world)
    users = world.monolith.expected_users(world.taken_users)
    with httpx.Client(base_url=world.stack.base_url, timeout=30) as client:
        frontend = Frontend(client)
        for user_id in SAMPLE:
            username = users[user_id][0]  # type: ignore[index]
            login = frontend.login(username, password(user_id))
            assert login.status_code == 200, (user_id, login.text)
            me = client.get("/users/me/", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
            assert me.json()["id"] == user_id
            mine = {c.pop("id"): c for c in me.json()["cigars"]}
            assert mine == {i: row for i, row in expected.items() if row["owner_id"] == user_id}, user_id
        for user_id, username in ((20, "user20"), (23, "MixedCase")):  # left out, or their name is someone else's
            assert frontend.login(username, password(user_id)).status_code == 400


async def test_a_bcrypt_hash_logs_in_unchanged_and_is_argon2id_after_the_first_login(world: World) -> None:
    async def hash_of(user_id: int) -> str:
        [(hashed,)] = await query(world.urls["auth"], f"SELECT hashed_password FROM users WHERE id = {user_id}")  # noqa: S608
        return str(hashed)

    monolith_hash = next(u["hashed_password"] for u in world.monolith.users if u["id"] == 900)
    assert await hash_of(900) == monolith_hash and monolith_hash.startswith("$2b$04$")  # stored as it was
    with httpx.Client(base_url=world.stack.base_url, timeout=30) as client:
        frontend = Frontend(client)
        assert frontend.login("user900", password(900)).status_code == 200
        rehashed = await hash_of(900)
        assert rehashed.startswith("$argon2id$")
        assert frontend.login("user900", password(900)).status_code == 200  # the new hash verifies
        assert frontend.login("user900", "pw-901-secret").status_code == 400
    assert await hash_of(900) == rehashed


def test_new_users_and_cigars_get_ids_above_the_imported_ones(world: World) -> None:
    with httpx.Client(base_url=world.stack.base_url, timeout=10) as client:
        frontend = Frontend(client)
        user_id, token = frontend.token_for_new_user()
        cigar = client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert user_id > max(u["id"] for u in world.monolith.users)
    assert cigar.json()["id"] > max(c["id"] for c in world.monolith.cigars)


def test_the_stack_log_carries_no_password_or_hash(world: World) -> None:
    log = Path(world.stack.config.var_dir / "stack.log").read_text()
    assert "pw-4-secret" not in log and "$2b$" not in log
