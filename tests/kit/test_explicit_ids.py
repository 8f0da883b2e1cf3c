"""Rows written with ids of their own: the key continues after them on every engine, and a batch's held ids are
found. SQLite here; the PostgreSQL tests are marked `postgres` (make test-unit leaves them to make test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.db.engine import create_engine, session_factory
from service_kit.db.explicit_ids import reserve_ids, within
from tests.conftest import Databases


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(20))


THINGS: Table = Base.metadata.tables["things"]


async def engine_for(url: str, autoincrement: bool = False) -> AsyncEngine:
    engine = create_engine(url)
    async with engine.begin() as conn:
        if autoincrement:  # what a SQLite table with AUTOINCREMENT looks like (sqlite_sequence keeps the highest)
            await conn.execute(text("CREATE TABLE things (id INTEGER PRIMARY KEY AUTOINCREMENT, label VARCHAR(20))"))
        else:
            await conn.run_sync(Base.metadata.create_all)
    return engine


async def new_id_after(engine: AsyncEngine, imported: list[int], above: int) -> int:
    """Reserve `above`, write the imported ids, then let the database pick the next id."""
    sessions = session_factory(engine)
    async with sessions() as session:
        await reserve_ids(session, THINGS, above)
        if imported:
            await session.execute(insert(THINGS), [{"id": i, "label": "imported"} for i in imported])
        await session.commit()
    async with sessions() as session:
        new = (await session.execute(insert(THINGS).values(label="new").returning(THINGS.c.id))).scalar_one()
        await session.commit()
    return int(new)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'things.db'}"


async def test_on_a_sqlite_rowid_table_new_ids_follow_the_highest_row_written(sqlite: str) -> None:
    engine = await engine_for(sqlite)
    assert await new_id_after(engine, [500, 7], above=900) == 501  # nothing reserves a rowid: write high first
    await engine.dispose()


async def test_on_a_sqlite_autoincrement_table_new_ids_come_after_the_reserved_ones(sqlite: str) -> None:
    engine = await engine_for(sqlite, autoincrement=True)
    assert await new_id_after(engine, [], above=900) == 901
    assert await new_id_after(engine, [], above=100) == 902  # never lowered
    await engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_new_ids_come_after_the_reserved_ones_and_the_sequence_never_goes_back(
    pg_databases: Databases,
) -> None:
    engine = await engine_for(await pg_databases.create("cigar_test_ids"))
    assert await new_id_after(engine, [5, 900], above=900) == 901
    assert await new_id_after(engine, [], above=10) == 902  # never lowered
    async with engine.begin() as conn:  # a row written with its own id without a reservation
        await conn.execute(insert(THINGS).values(id=3000, label="x"))
    assert await new_id_after(engine, [], above=10) == 3001  # above the rows the table holds, too
    await engine.dispose()


async def test_within_finds_which_of_a_batchs_ids_are_held(sqlite: str) -> None:
    engine = await engine_for(sqlite)
    async with session_factory(engine)() as session:
        await session.execute(insert(THINGS), [{"id": i, "label": "x"} for i in (3, 5, 8, 9, 20)])
        assert await within(session, Thing.id, [4, 5, 6, 7, 8]) == {5, 8}
        assert await within(session, Thing.id, []) == set()
    await engine.dispose()
