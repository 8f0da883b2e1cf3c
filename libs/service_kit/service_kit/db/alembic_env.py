"""The body of every service's alembic `env.py`: an async engine, batch mode for SQLite, the URL from the
config (the migrate command sets it) or else from the service's settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from .engine import create_engine


def run_migrations(metadata: MetaData, settings_url: Callable[[], str]) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or settings_url()
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(online())
