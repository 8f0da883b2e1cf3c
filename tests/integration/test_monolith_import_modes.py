"""`python -m monolith_import` on small hand-made monoliths, on SQLite and PostgreSQL: the choices an operator
makes (skip, merge), what a re-run leaves alone, and the one-line errors. The big import is in
tests/e2e/test_monolith_import.py."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from monolith_import.__main__ import main
from scripts.fake_monolith import METADATA
from tests.conftest import BACKENDS, Databases, database_url, migrate

HASH = bcrypt.hashpw(b"pw-secret", bcrypt.gensalt(rounds=4)).decode()


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Target:
    auth: str
    collection: str
    monolith: str
    monkeypatch: pytest.MonkeyPatch

    async def run(self, *args: str, source: str | None = None) -> Done:
        """The command's main() in a thread of this process (its own event loop), with the services' settings
        in the environment, as `python -m monolith_import` runs it."""
        self.monkeypatch.setenv("AUTH_DATABASE_URL", self.auth)
        self.monkeypatch.setenv("COLLECTION_DATABASE_URL", self.collection)
        out, err = io.StringIO(), io.StringIO()

        def run() -> int:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                return main(["--from", source or self.monolith, *args])

        status = await asyncio.to_thread(run)
        return Done(status, out.getvalue(), err.getvalue())

    async def rows(self, service: str, sql: str) -> list[Any]:
        engine = create_async_engine(getattr(self, service))
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(sql))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            await engine.dispose()


async def fill(url: str, users: list[dict[str, Any]], cigars: list[dict[str, Any]]) -> None:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://").replace(
        "sqlite://", "sqlite+aiosqlite://"))  # fmt: skip
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            for table, rows in (("users", users), ("cigars", cigars)):
                if rows:
                    await conn.execute(METADATA.tables[table].insert(), rows)
    finally:
        await engine.dispose()


def user(i: int, email: str | None = None, hashed: str | None = HASH) -> dict[str, Any]:
    return {"id": i, "username": f"u{i}x", "email": email or f"u{i}@example.com", "hashed_password": hashed}


def cigar(i: int, owner: int, rating: int = 3) -> dict[str, Any]:
    return {"id": i, "name": f"c{i}", "brand": "b", "origin": "", "flavor_notes": "", "rating": rating,
            "owner_id": owner}  # fmt: skip


@pytest.fixture(params=BACKENDS)
async def target(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Target]:
    urls = [await database_url(request.param, name, tmp_path, pg_databases) for name in ("auth", "collection")]
    await migrate("auth", urls[0])
    await migrate("collection", urls[1])
    monolith = await database_url(request.param, "monolith", tmp_path, pg_databases)
    yield Target(urls[0], urls[1], monolith.replace("+asyncpg", "").replace("+aiosqlite", ""), monkeypatch)


async def test_skip_leaves_out_the_rows_with_problems_and_their_cigars_and_imports_the_rest(target: Target) -> None:
    await fill(target.monolith, [user(1), user(2, hashed=None), user(3)],
               [cigar(1, 1), cigar(2, 2), cigar(3, 3, rating=9), cigar(4, 3)])  # fmt: skip
    done = await target.run("--on-invalid=skip")
    assert done.returncode == 0, done.stderr
    assert "user 2: password_hash_invalid (the password hash is missing) -> left out: a problem" in done.stdout
    assert "cigar 3: rating_out_of_range (rating 9 is not 1 to 5) -> left out: a problem (--on-invalid=skip)" in (
        done.stdout)  # fmt: skip
    assert "cigar 2: left out: their owner is not imported" in done.stdout
    assert await target.rows("auth", "SELECT id FROM users ORDER BY id") == [(1,), (3,)]
    assert await target.rows("collection", "SELECT id, owner_id FROM cigars ORDER BY id") == [(1, 1), (4, 3)]


async def test_merging_case_duplicate_emails_gives_the_cigars_to_the_user_who_keeps_the_address(target: Target) -> None:
    await fill(target.monolith, [user(1, "carol@example.com"), user(2, "CAROL@example.com")],
               [cigar(1, 1), cigar(2, 2)])  # fmt: skip
    done = await target.run("--merge-duplicate-emails")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "merged into the user who keeps their email" in done.stdout
    assert await target.rows("auth", "SELECT id, email FROM users") == [(1, "carol@example.com")]
    assert await target.rows("collection", "SELECT id, owner_id FROM cigars ORDER BY id") == [(1, 1), (2, 1)]
    assert await target.rows("auth", "SELECT monolith_id, user_id FROM imported_users ORDER BY 1") == [(1, 1), (2, 1)]
    again = await target.run("--merge-duplicate-emails")
    assert "Nothing to import" in again.stdout


async def test_a_clean_monolith_imports_at_once_in_report_mode_and_a_cigar_deleted_since_stays_deleted(
    target: Target,
) -> None:
    await fill(target.monolith, [user(1)], [cigar(1, 1), cigar(2, 1)])
    done = await target.run()
    assert done.returncode == 0 and "Imported 1 users and 2 cigars." in done.stdout
    await target.rows("collection", "DELETE FROM cigars WHERE id = 2")  # the owner deleted it in the new system
    again = await target.run()
    assert again.returncode == 0 and "Nothing to import" in again.stdout
    assert await target.rows("collection", "SELECT id FROM cigars") == [(1,)]


async def test_a_database_that_cannot_be_used_is_one_line_naming_it_without_the_password(target: Target) -> None:
    await fill(target.monolith, [user(1)], [])
    bad_source = await target.run(source="postgresql://someone:s3cret@127.0.0.1:1/nowhere")
    assert bad_source.returncode == 2 and "s3cret" not in bad_source.stderr
    assert bad_source.stderr.startswith("monolith_import: cannot read postgresql://someone:***@127.0.0.1:1/nowhere")
    unmigrated = await Target(target.monolith.replace("postgresql://", "postgresql+asyncpg://").replace(
        "sqlite://", "sqlite+aiosqlite://"), target.collection, target.monolith, target.monkeypatch).run()  # fmt: skip
    assert unmigrated.returncode == 2
    assert unmigrated.stderr.startswith("monolith_import: AUTH_DATABASE_URL: the schema is at revision none")
