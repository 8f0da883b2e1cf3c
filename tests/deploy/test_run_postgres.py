"""`make run-postgres` (python -m scripts.run_postgres): databases created if missing, migrated, stack served."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from scripts.run_postgres import ensure_database
from tests.conftest import PG_ADMIN_URL, Databases, free_port
from tests.deploy.conftest import ROOT


@pytest.mark.postgres
async def test_ensure_database_creates_a_missing_database_once(pg_databases: Databases) -> None:
    name = f"cigar_ensure_{uuid.uuid4().hex[:10]}"
    pg_databases.created.append(name)
    assert await ensure_database(PG_ADMIN_URL, name) is True
    assert await ensure_database(PG_ADMIN_URL, name) is False
    with pytest.raises(ValueError, match="must match"):
        await ensure_database(PG_ADMIN_URL, 'x"; DROP DATABASE postgres; --')


@pytest.mark.postgres
def test_run_postgres_creates_both_databases_migrates_and_serves(pg_databases: Databases, tmp_path: Path) -> None:
    names = {
        "PG_AUTH_DB": f"cigar_run_a_{uuid.uuid4().hex[:8]}",
        "PG_COLLECTION_DB": f"cigar_run_c_{uuid.uuid4().hex[:8]}",
    }
    pg_databases.created.extend(names.values())
    gateway_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")},
        **names, "PG_ADMIN_URL": PG_ADMIN_URL, "VAR_DIR": str(tmp_path),
        "GATEWAY_PORT": str(gateway_port), "ENVOY_ADMIN_PORT": str(free_port()),
        "AUTH_PORT": str(free_port()), "COLLECTION_PORT": str(free_port()),
        "AUTH_METRICS_PORT": str(free_port()), "COLLECTION_METRICS_PORT": str(free_port()),
    }  # fmt: skip
    stack = subprocess.Popen(
        [sys.executable, "-m", "scripts.run_postgres"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert stack.poll() is None, stack.stdout.read() if stack.stdout else ""
            try:
                reply = httpx.post(
                    f"http://127.0.0.1:{gateway_port}/users/",
                    json={"username": "runpg", "email": "runpg@example.com", "password": "testpassword"},
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "make run-postgres never served"
                time.sleep(0.3)
        assert reply.status_code == 201, reply.text
    finally:
        stack.send_signal(signal.SIGTERM)
        out, _ = stack.communicate(timeout=60)
    assert stack.returncode == 0, out
    for name in names.values():
        assert f"database {name} created" in out
    assert asyncio.run(usernames(names["PG_AUTH_DB"])) == ["runpg"]  # served from PostgreSQL, not SQLite


async def usernames(database: str) -> list[str]:
    conn = await asyncpg.connect(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}", timeout=5)
    try:
        return [row["username"] for row in await conn.fetch("SELECT username FROM users")]
    finally:
        await conn.close()
