"""The FastAPI monolith's database (PostgreSQL or SQLite), read as it is: only SELECTs, nothing is changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth_service.domain import MonolithUser
from collection_service.domain import MonolithCigar

ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


class SourceError(Exception):
    """The monolith's database cannot be read; the message says why in one line (never the password)."""


def async_url(url: str) -> str:
    """The monolith's own URL, as its settings or psql have it, with an async driver for reading it here."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise SourceError("not a database URL; expected postgresql://USER@HOST/DB or sqlite:///PATH") from None
    driver = ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in ASYNC_DRIVERS.values():
        raise SourceError(f"unsupported database {parsed.drivername!r}; expected PostgreSQL or SQLite")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class MonolithDatabase:
    """`async with MonolithDatabase(url) as db:` opens it; users() reads them all (the import compares them with
    each other), cigars() pages through the cigars, highest id first (see monolith_import.run)."""

    def __init__(self, url: str) -> None:
        self._url = async_url(url)
        self.where = make_url(url).render_as_string(hide_password=True)

    async def __aenter__(self) -> Self:
        # A plain engine, not the services' (service_kit.db.engine): that one would switch a SQLite file to WAL,
        # which is a write to the monolith's database.
        self._engine: AsyncEngine = create_async_engine(self._url)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._engine.dispose()

    async def _rows(self, sql: str, **params: Any) -> list[Any]:
        try:
            async with self._engine.connect() as conn:
                return list(await conn.execute(text(sql), params))
        except (OSError, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SourceError(f"cannot read {self.where}: {reason}") from None

    async def users(self) -> list[MonolithUser]:
        rows = await self._rows("SELECT id, username, email, hashed_password FROM users ORDER BY id")
        return [MonolithUser(r[0], _text(r[1]), _text(r[2]), _text(r[3])) for r in rows if _id(r[0]) is not None]

    async def cigar_stats(self) -> tuple[int, int]:
        """(how many cigars, the highest cigar id)."""
        [(count, highest)] = await self._rows("SELECT count(*), coalesce(max(id), 0) FROM cigars")
        return int(count), int(highest)

    async def cigars(self, page: int) -> AsyncIterator[list[MonolithCigar]]:
        """Pages of cigars, highest id first (keyset: id < the last one seen)."""
        below = 2**63 - 1
        while True:
            rows = await self._rows(
                "SELECT id, name, brand, origin, flavor_notes, rating, owner_id FROM cigars"
                " WHERE id < CAST(:below AS BIGINT) ORDER BY id DESC LIMIT :page",
                below=below,
                page=page,
            )
            if not rows:
                return
            below = rows[-1][0]
            yield [
                MonolithCigar(r[0], _text(r[1]), _text(r[2]), _text(r[3]), _text(r[4]), r[5], _id(r[6])) for r in rows
            ]
