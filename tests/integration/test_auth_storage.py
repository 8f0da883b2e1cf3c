"""auth_service's tables through its repositories on a real database (SQLite and PostgreSQL): what they keep."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from auth_service.adapters.db.uow import SqlUnitOfWork
from auth_service.domain import NewUser
from service_kit.db.engine import create_engine, session_factory
from tests.conftest import BACKENDS, Databases, database_url, migrate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=BACKENDS)
async def uow(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[type[SqlUnitOfWork]]:
    url = await database_url(request.param, "auth", tmp_path_factory.mktemp("auth-storage"), pg_databases)
    await migrate("auth", url)
    engine = create_engine(url)
    sessions = session_factory(engine)

    class UnitOfWork(SqlUnitOfWork):
        def __init__(self) -> None:
            super().__init__(sessions)

    yield UnitOfWork
    await engine.dispose()


async def add_user(uow: type[SqlUnitOfWork]) -> int:
    name = f"st_{uuid.uuid4().hex[:8]}"
    async with uow() as tx:
        user = await tx.users.add(NewUser(name, f"{name}@example.com", "hash"))
        await tx.commit()
    return user.id


async def test_the_id_of_a_deleted_user_is_never_given_to_a_new_user(uow: type[SqlUnitOfWork]) -> None:
    # A token's sub is the user id: a reused id would make a deleted user's unexpired token someone else's.
    await add_user(uow)
    newest = await add_user(uow)
    async with uow() as tx:
        await tx.users.delete(newest, NOW)
        await tx.commit()
    assert await add_user(uow) > newest
