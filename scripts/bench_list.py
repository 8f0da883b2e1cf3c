"""List-query latency at 100k cigars on a fresh PostgreSQL database: `python -m scripts.bench_list`.

Seeds the cigars (COPY), then times the first and the 1000th page through the service layer, with
skip/limit and with page_token (keyset), and prints EXPLAIN ANALYZE of the SQL behind each. A benchmark,
not a test: the numbers depend on the machine. The database is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from collection_service.adapters.db import MIGRATIONS
from collection_service.adapters.db.cigars import SqlCigarStore, find_params, find_query
from collection_service.app import paging
from collection_service.app.cigars import Cigars
from collection_service.domain import CigarFilter, PageRequest
from service_kit.db.driver import open_driver
from service_kit.db.engine import create_engine
from service_kit.db.migrate import upgrade

BRANDS = [f"Brand {i:02d}" for i in range(50)]
ORIGINS = ["Cuba", "Dominican Republic", "Nicaragua", "Honduras", "Mexico", "Ecuador", "Brazil", "Cameroon"]
WORDS = ["Robusto", "Corona", "Churchill", "Torpedo", "Maduro", "Reserva", "Especial", "Gran", "Short", "Story"]


class NoAuth:
    async def user_id(self, token: str) -> int:
        raise NotImplementedError("the benchmark only reads")


async def seed(admin_url: str, db: str, rows: int, owners: int) -> None:
    conn = await asyncpg.connect(admin_url.rsplit("/", 1)[0] + f"/{db}")
    rnd = random.Random(42)  # noqa: S311 - reproducible test data, not secrets
    records = [
        (f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {i}", rnd.choice(BRANDS), rnd.choice(ORIGINS), "notes",
         rnd.randint(1, 5), rnd.randint(1, owners))
        for i in range(rows)
    ]  # fmt: skip
    columns = ["name", "brand", "origin", "flavor_notes", "rating", "owner_id"]
    await conn.copy_records_to_table("cigars", records=records, columns=columns)
    await conn.execute("ANALYZE cigars")
    await conn.close()


async def timed(label: str, call, runs: int) -> list:  # type: ignore[no-untyped-def]
    await call()  # warm: connection, plan, cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - started) * 1000)
    print(f"{label:<44} median {statistics.median(samples):7.2f} ms   p90 {sorted(samples)[int(runs * 0.9)]:7.2f} ms")
    return result.cigars


async def explain(engine, label: str, f: CigarFilter, after_id: int, skip: int, limit: int) -> None:  # type: ignore[no-untyped-def]
    query = find_query(f).params(find_params(f, after_id, skip, limit))
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        plan = (await conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}"))).scalars().all()
    print(f"\n--- EXPLAIN ANALYZE: {label}\n{' '.join(sql.split())}\n" + "\n".join(plan))


async def main(args: argparse.Namespace) -> int:
    db = f"cigar_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.pg_url)
    await admin.execute(f'CREATE DATABASE "{db}"')
    url = args.pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{db}"
    engine = driver = None
    try:
        await asyncio.to_thread(upgrade, MIGRATIONS, url)
        started = time.perf_counter()
        await seed(args.pg_url, db, args.rows, args.owners)
        print(f"seeded {args.rows} cigars into {db} in {time.perf_counter() - started:.1f} s")
        engine = create_engine(url)  # EXPLAIN and the set-up queries
        driver = open_driver(url)  # what collection_service runs its queries on
        service = Cigars(SqlCigarStore(driver), NoAuth())
        size, deep = args.page_size, (args.page - 1) * args.page_size
        everything = CigarFilter()
        async with engine.connect() as conn:
            last_before = (
                await conn.execute(text("SELECT id FROM cigars ORDER BY id OFFSET :n LIMIT 1"), {"n": deep - 1})
            ).scalar_one()
        token = paging.encode(last_before, everything)
        print(
            f"\npage size {size}; page {args.page} starts after row {deep} (id > {last_before}); {args.runs} runs each"
        )

        def page(f: CigarFilter, request: PageRequest):  # type: ignore[no-untyped-def]
            return lambda: service.list_cigars(f, request)

        first = await timed("page 1, skip/limit", page(everything, PageRequest(limit=size)), args.runs)
        await timed("page 1, page_size (keyset)", page(everything, PageRequest(page_size=size)), args.runs)
        by_skip = await timed(
            f"page {args.page}, skip/limit", page(everything, PageRequest(skip=deep, limit=size)), args.runs
        )
        by_token = await timed(
            f"page {args.page}, page_token (keyset)",
            page(everything, PageRequest(page_size=size, page_token=token)),
            args.runs,
        )
        assert [c.id for c in by_skip] == [c.id for c in by_token] and first, "both ways must return the same page"
        owner = CigarFilter(owner_id=7)
        await timed("owner_id filter, page 1", page(owner, PageRequest(page_size=size)), args.runs)
        await timed(
            "brand+min_rating filter, page 1",
            page(CigarFilter(brand="Brand 07", min_rating=4), PageRequest(page_size=size)),
            args.runs,
        )
        await timed(
            "q name search, page 1", page(CigarFilter(q="torpedo maduro"), PageRequest(page_size=size)), args.runs
        )

        await explain(engine, f"page {args.page}, skip/limit", everything, 0, deep, size + 1)
        await explain(engine, f"page {args.page}, page_token (keyset)", everything, last_before, 0, size + 1)
        await explain(engine, "owner_id filter, keyset", owner, 0, 0, size + 1)
        await explain(engine, "brand filter, keyset deep", CigarFilter(brand="Brand 07"), 90_000, 0, size + 1)
    finally:
        if driver is not None:
            await driver.close()
        if engine is not None:
            await engine.dispose()
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin connection")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--owners", type=int, default=1_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database for further EXPLAINs")
    sys.exit(asyncio.run(main(parser.parse_args())))
