"""deploy/postgres/init-databases.sh, run for real on the test server: a role and a database per service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from tests.conftest import PG_ADMIN_URL, migrate
from tests.deploy.conftest import ROOT

SCRIPT = ROOT / "deploy" / "postgres" / "init-databases.sh"


async def run_script(env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        "sh", str(SCRIPT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


@pytest.mark.postgres
async def test_the_init_script_gives_each_service_its_own_role_and_database_and_can_run_twice() -> None:
    admin = urlsplit(PG_ADMIN_URL)
    tag = uuid.uuid4().hex[:8]
    names = {"AUTH_DB": f"cigar_init_auth_{tag}", "COLLECTION_DB": f"cigar_init_coll_{tag}"}
    env = {
        **os.environ, **names,
        "PGHOST": admin.hostname or "127.0.0.1", "PGPORT": str(admin.port or 5432),
        "POSTGRES_USER": admin.username or "postgres",
        "AUTH_DB_PASSWORD": "it's a secret", "COLLECTION_DB_PASSWORD": "another one",
    }  # fmt: skip
    server = f"{admin.hostname}:{admin.port or 5432}"
    try:
        await run_script(env)
        await run_script(env)  # a restarted container, or an operator, may run it again
        auth, collection = names["AUTH_DB"], names["COLLECTION_DB"]
        # Each role owns its database, so it can create its tables (PostgreSQL 15 no longer lets PUBLIC).
        await migrate("auth", f"postgresql+asyncpg://{auth}@{server}/{auth}")
        await migrate("collection", f"postgresql+asyncpg://{collection}@{server}/{collection}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(f"postgresql://{collection}@{server}/{auth}", timeout=5)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(f"postgresql://{auth}@{server}/{collection}", timeout=5)
    finally:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            for name in names.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
        finally:
            await conn.close()


def test_the_init_script_refuses_to_run_without_passwords() -> None:
    result = subprocess.run(["sh", str(SCRIPT)], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
    assert result.returncode != 0 and "AUTH_DB_PASSWORD" in result.stderr
