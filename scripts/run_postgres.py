"""`make run-postgres`: the whole stack on the local PostgreSQL server, one database per service.

Creates each service's database if it is missing (on PG_ADMIN_URL, default postgres@127.0.0.1:5432),
points AUTH_DATABASE_URL / COLLECTION_DATABASE_URL at them, then runs scripts.stack, which migrates
both before starting anything. The e2e suite's PostgreSQL run goes through `postgres_urls` too.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

import asyncpg

from scripts import stack

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# service setting -> (variable naming the database for this script, default name)
NAMES = {
    "AUTH_DATABASE_URL": ("PG_AUTH_DB", "cigar_auth"),
    "COLLECTION_DATABASE_URL": ("PG_COLLECTION_DB", "cigar_collection"),
}
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


async def ensure_database(admin_url: str, name: str) -> bool:
    """Create database `name` unless it exists; True if it was created."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"database name {name!r} must match {IDENTIFIER.pattern}")
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        # CREATE DATABASE takes no bind parameters; the name is checked against IDENTIFIER above.
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except asyncpg.DuplicateDatabaseError:  # created by someone else in between
        return False
    finally:
        await conn.close()


async def postgres_urls(admin_url: str, names: dict[str, str]) -> dict[str, str]:
    """{setting: async URL} for each service database on the admin URL's server, created if missing."""
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    urls = {}
    for setting, name in names.items():
        created = await ensure_database(admin_url, name)
        print(f"{setting}: database {name} {'created' if created else 'exists'}", flush=True)
        urls[setting] = f"{base}/{name}"
    return urls


def main() -> int:
    admin_url = os.environ.get("PG_ADMIN_URL", ADMIN_URL)
    names = {setting: os.environ.get(variable, name) for setting, (variable, name) in NAMES.items()}
    try:
        urls = asyncio.run(postgres_urls(admin_url, names))
    except (OSError, asyncpg.PostgresError) as exc:
        where = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", admin_url)  # never print a password
        print(f"run-postgres: PG_ADMIN_URL: cannot use PostgreSQL at {where}: {exc}", file=sys.stderr)
        return 2
    for setting, url in urls.items():
        os.environ.setdefault(setting, url)
    return stack.main()


if __name__ == "__main__":
    sys.exit(main())
