"""Fixtures shared by every test layer: PostgreSQL databases, free ports, signing keys."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import grpc
import pytest

from scripts.stack import free_port  # noqa: F401 (re-exported: tests take it from here)

# What the tests render Envoy's configuration with when they do not start a gateway (a real one reads its file).
GATEWAY_TEST_SECRET = "test-gateway-secret-0123456789abcdef"
# Every test stack registers its users from 127.0.0.1: the gateway's per-address limit on registrations
# (REGISTRATION_RATE_LIMIT_BURST, 20 an hour) is lifted for them; tests/e2e/test_client_address.py tests it.
MANY_REGISTRATIONS = {"REGISTRATION_RATE_LIMIT_BURST": "1000000"}
NOTES: list[str] = []


def note(line: str) -> None:
    """Something a test could not do here and says so at the end of the run (never a silent skip)."""
    NOTES.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if NOTES:
        terminalreporter.section("not run here")
        for line in NOTES:
            terminalreporter.write_line(line)


# The PostgreSQL server every CI run has (trust auth). Tests create and drop their own databases.
PG_ADMIN_URL = os.environ.get("CIGAR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgres"]


class Databases:
    """Creates uniquely named databases on the test PostgreSQL server and drops them at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    async def _admin(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            # Never a skip: a test run that cannot reach PostgreSQL has not tested PostgreSQL.
            pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_URL}: {exc}", pytrace=False)

    async def create(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{base}/{name}"

    async def drop_all(self) -> None:
        if not self.created:
            return
        conn = await self._admin()
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def pg_databases() -> AsyncIterator[Databases]:
    dbs = Databases()
    yield dbs
    await dbs.drop_all()


async def database_url(backend: str, service: str, tmp: Path, pg: Databases) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / f'{service}.db'}"
    return await pg.create(f"cigar_test_{service}")


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from auth_service.adapters.keys import create_key_file

    path = tmp_path_factory.mktemp("keys") / "signing.pem"
    create_key_file(path)
    yield path


def run_migrations(service: str, url: str) -> None:
    """Each service's own alembic history, as `python -m <service> migrate` runs it."""
    from service_kit.db.migrate import upgrade

    if service == "auth":
        from auth_service.adapters.db import MIGRATIONS
    else:
        from collection_service.adapters.db import MIGRATIONS
    upgrade(MIGRATIONS, url)


async def migrate(service: str, url: str) -> None:
    await asyncio.to_thread(run_migrations, service, url)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0, interval: float = 0.01) -> None:
    """Poll `check` until it is true; fail the test if it is not within `within` seconds."""
    for _ in range(max(1, int(within / interval))):
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s")


PLUMBING_METHOD = "/test.Plumbing/Call"


async def serve_plumbing(handler, interceptors=()) -> tuple[grpc.aio.Server, int]:  # type: ignore[no-untyped-def]
    """A real in-process gRPC server with one bytes-in, bytes-out method (PLUMBING_METHOD) on a free port."""
    server = grpc.aio.server(interceptors=list(interceptors))
    rpc = grpc.unary_unary_rpc_method_handler(handler, lambda b: b, lambda b: b)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Plumbing", {"Call": rpc}),))
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    return server, port
