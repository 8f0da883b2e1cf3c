"""auth_service's tables through its adapters on a real database (SQLite and PostgreSQL): what they keep."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth_service.adapters.db.counter_pruning import SqlCounterPruner
from auth_service.adapters.db.uow import SqlUnitOfWork
from auth_service.domain import EmailTaken, NewUser
from service_kit.db.engine import create_engine, session_factory
from tests.conftest import BACKENDS, Databases, database_url, migrate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class AuthDb:
    sessions: async_sessionmaker[AsyncSession]

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)


@pytest.fixture(scope="module", params=BACKENDS)
async def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[AuthDb]:
    url = await database_url(request.param, "auth", tmp_path_factory.mktemp("auth-storage"), pg_databases)
    await migrate("auth", url)
    engine = create_engine(url)
    yield AuthDb(session_factory(engine))
    await engine.dispose()


async def add_user(db: AuthDb) -> int:
    name = f"st_{uuid.uuid4().hex[:8]}"
    async with db.uow() as tx:
        user = await tx.users.add(NewUser(name, f"{name}@example.com", "hash"))
        await tx.commit()
    return user.id


async def test_the_id_of_a_deleted_user_is_never_given_to_a_new_user(db: AuthDb) -> None:
    # A token's sub is the user id: a reused id would make a deleted user's unexpired token someone else's.
    await add_user(db)
    newest = await add_user(db)
    async with db.uow() as tx:
        await tx.users.delete(newest, NOW)
        await tx.commit()
    assert await add_user(db) > newest


async def test_the_database_refuses_an_email_taken_in_another_case(db: AuthDb) -> None:
    # The use case checks first; two registrations racing past that check meet the unique index.
    name = f"st_{uuid.uuid4().hex[:8]}"
    async with db.uow() as tx:
        await tx.users.add(NewUser(f"{name}_a", f"{name}@example.com", "hash"))
        await tx.commit()
    with pytest.raises(EmailTaken):
        async with db.uow() as tx:
            await tx.users.add(NewUser(f"{name}_b", f"{name.upper()}@example.com", "hash"))
            await tx.commit()


async def test_old_login_counters_are_pruned_but_recent_failures_and_known_addresses_are_kept(db: AuthDb) -> None:
    reset, known_for = timedelta(hours=12), timedelta(days=90)
    now = NOW + timedelta(days=400)
    tag = uuid.uuid4().hex[:8]
    names = ["old_failure", "recent_failure", "known_recently", "known_long_ago", "known_long_ago_failed_now", "reset"]
    keys = {name: f"test:{tag}:{name}" for name in names}
    async with db.uow() as tx:
        await tx.counters.record_failure([keys["old_failure"]], now - reset - timedelta(seconds=1), NOW)
        await tx.counters.record_failure([keys["recent_failure"]], now - timedelta(hours=1), NOW)
        # the pair key of an address that logged in: the owner's exemption from the account-wide lock
        await tx.counters.record_success([], [], keys["known_recently"], now - timedelta(days=10))
        await tx.counters.record_failure([keys["known_long_ago"]], now - timedelta(days=200), NOW)
        await tx.counters.record_success([], [], keys["known_long_ago"], now - known_for - timedelta(days=1))
        await tx.counters.record_success([], [], keys["known_long_ago_failed_now"], now - timedelta(days=300))
        await tx.counters.record_failure([keys["known_long_ago_failed_now"]], now - timedelta(minutes=5), NOW)
        await tx.counters.record_failure([keys["reset"]], now - timedelta(days=2), NOW)
        await tx.counters.record_success([keys["reset"]], [], keys["reset"], now - timedelta(days=365))
        await tx.commit()
    pruned = await SqlCounterPruner(db.sessions).prune(failures_before=now - reset, successes_before=now - known_for)
    assert pruned >= 3
    async with db.uow() as tx:
        left = set(await tx.counters.get(keys.values()))
    assert left == {keys["recent_failure"], keys["known_recently"], keys["known_long_ago_failed_now"]}


async def test_a_failure_after_the_reset_period_starts_the_count_again(db: AuthDb) -> None:
    key, reset = f"test:{uuid.uuid4().hex[:8]}:pair", timedelta(hours=12)
    for minutes in (0, 1, 2):
        async with db.uow() as tx:
            await tx.counters.record_failure([key], NOW + timedelta(minutes=minutes), NOW - reset)
            await tx.commit()
    async with db.uow() as tx:
        assert (await tx.counters.get([key]))[key].failures == 3
        later = NOW + reset + timedelta(minutes=3)  # the last failure (NOW + 2 min) is now older than the period
        await tx.counters.record_failure([key], later, later - reset)
        await tx.commit()
    async with db.uow() as tx:
        counter = (await tx.counters.get([key]))[key]
    assert (counter.failures, counter.last_failure_at) == (1, later)
