"""How a write and an account deletion keep out of each other's way on PostgreSQL.

A single-statement CreateCigar checks for its owner's deletion in the statement itself, with the snapshot the
statement started with. That check can run before a deletion commits while the insert commits after the
deletion's DELETE ran: the cigar would outlive its owner. So a deletion takes the cigars table in SHARE ROW
EXCLUSIVE mode, which waits for every write in flight (ROW EXCLUSIVE, held to their commit) and holds new ones
until it commits; a write that waited then reads with a snapshot that sees the deletion. Reads never wait.
The import checks after its inserts (which hold that lock), so its check sees any deletion that came first.
SQLite has one writer at a time: nothing to do there."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CigarRow


async def lock_cigars(session: AsyncSession, mode: Literal["ROW EXCLUSIVE", "SHARE ROW EXCLUSIVE"]) -> None:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"LOCK TABLE {CigarRow.__tablename__} IN {mode} MODE"))
