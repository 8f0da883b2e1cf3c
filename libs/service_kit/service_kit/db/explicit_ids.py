"""Rows written with ids of their own (an import keeping its ids): which of a batch's ids a table holds already,
and where the table's integer key continues, so that those ids are not handed out again and rows created
meanwhile get ids above the imported range."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def reserve_ids(session: AsyncSession, table: Table, above: int) -> None:
    """From now on the table's key hands out ids above `above` (and above every id it holds); never lowers it.

    PostgreSQL: the serial's sequence, set under a lock that keeps inserts (which draw from it) out meanwhile.
    SQLite with AUTOINCREMENT: its sqlite_sequence entry. SQLite without it (a rowid alias) hands out the highest
    id + 1, which nothing can reserve: there, write the highest ids first."""
    conn = await session.connection()
    [key] = table.primary_key.columns
    if conn.dialect.name == "postgresql":
        await _postgres(conn, table, key.name, above)
    elif conn.dialect.name == "sqlite":
        await _sqlite(conn, table.name, above)


async def _postgres(conn: AsyncConnection, table: Table, key: str, above: int) -> None:
    sequence = (await conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key})).scalar()
    if sequence is None:
        return  # not a serial column: nothing hands ids out
    await conn.execute(text(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE'))
    highest = (await conn.execute(select(func.coalesce(func.max(table.c[key]), 0)))).scalar_one()
    # the name comes from PostgreSQL itself, quoted where it needs to be
    last, called = (await conn.execute(text(f"SELECT last_value, is_called FROM {sequence}"))).one()  # noqa: S608
    target = max(above, highest)
    if (last if called else last - 1) < target:
        await conn.execute(text("SELECT setval(:s, :v, true)"), {"s": sequence, "v": target})


async def _sqlite(conn: AsyncConnection, table: str, above: int) -> None:
    sql = (
        await conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
    ).scalar()
    if not sql or "AUTOINCREMENT" not in sql.upper():
        return
    known = (await conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table})).scalar()
    if known is None:
        await conn.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)"), {"t": table, "v": above})
    elif known < above:
        await conn.execute(text("UPDATE sqlite_sequence SET seq = :v WHERE name = :t"), {"t": table, "v": above})


async def within(session: AsyncSession, key: InstrumentedAttribute[Any], ids: Collection[int]) -> set[int]:
    """Those of `ids` (a batch of nearby ids) that the key column holds, read as one index range. An IN list of
    hundreds of parameters is no good here: PostgreSQL's cached generic plan cannot hash it, and on a table
    filling up with no statistics yet it compared every row with every parameter (0.2 s a batch at 100k rows)."""
    wanted = set(ids)
    if not wanted:
        return set()
    found = await session.scalars(select(key).where(key.between(min(wanted), max(wanted))))
    return {i for i in found if i in wanted}
