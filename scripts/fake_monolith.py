"""A FastAPI monolith's database for the import's tests and benchmark: the monolith's schema as its SQLAlchemy
models create it (create_all, columns nullable as its seed code declared them), thousands of users and cigars,
clean rows and the dirty ones its API let in, and what `--on-invalid=fix` must make of every row.

    python -m scripts.fake_monolith sqlite:///monolith.db --users 1200 --cigars 12000

Passwords are `pw-<id>-secret`. bcrypt at cost 12 (the monolith's) takes ~0.3 s a hash, so the bulk is hashed at
cost 4 (same format, same verification path) and only the first few users (STRONG) at cost 12.
"""

from __future__ import annotations

import argparse
import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import bcrypt
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import create_async_engine

from monolith_import.source import async_url

METADATA = MetaData()
USERS = Table(
    "users", METADATA,
    Column("id", Integer, primary_key=True, index=True),
    Column("username", String, unique=True, index=True),
    Column("email", String, unique=True, index=True),
    Column("hashed_password", String),
)  # fmt: skip
CIGARS = Table(
    "cigars", METADATA,
    Column("id", Integer, primary_key=True, index=True),
    Column("name", String), Column("brand", String), Column("origin", String), Column("flavor_notes", String),
    Column("rating", Integer),
    Column("owner_id", Integer, ForeignKey("users.id"), index=True),
)  # fmt: skip
STRONG = (3, 4, 5)  # hashed at the monolith's cost 12
PLACEHOLDER = "user-{}@imported.invalid"
BRANDS = ["Padrón", "Arturo Fuente", "Cohiba", "Oliva", "My Father", "Davidoff", "Montecristo", "Ñandú & Co"]
ORIGINS = ["Nicaragua", "Dominican Republic", "Cuba", "Honduras", "", "日本"]
_HASHES: dict[tuple[int, int], str] = {}  # (user id, cost) -> hash: built once per process


def password(user_id: int) -> str:
    return f"pw-{user_id}-secret"


def _hash_all(ids: list[int]) -> dict[int, str]:
    missing = [(i, 12 if i in STRONG else 4) for i in ids if (i, 12 if i in STRONG else 4) not in _HASHES]

    def one(key: tuple[int, int]) -> tuple[tuple[int, int], str]:
        return key, bcrypt.hashpw(password(key[0]).encode(), bcrypt.gensalt(rounds=key[1])).decode()

    with ThreadPoolExecutor(4) as pool:  # bcrypt releases the GIL
        _HASHES.update(pool.map(one, missing))
    return {i: _HASHES[i, 12 if i in STRONG else 4] for i in ids}


@dataclass
class FakeMonolith:
    users: list[dict[str, Any]]
    cigars: list[dict[str, Any]]
    sqlite: bool
    # what --on-invalid=fix must store: user id -> (username, email), cigar id -> its fields, None: left out
    user_fixes: dict[int, tuple[str, str] | None] = field(default_factory=dict)
    cigar_fixes: dict[int, dict[str, Any] | None] = field(default_factory=dict)

    def expected_users(self, taken: set[int]) -> dict[int, tuple[str, str] | None]:
        """Each monolith user's (username, email) after the import, or None if left out; `taken`: monolith ids
        that a clash with the new system keeps out."""
        expected: dict[int, tuple[str, str] | None] = {}
        for u in self.users:
            fixed = self.user_fixes[u["id"]] if u["id"] in self.user_fixes else (u["username"], _normalised(u["email"]))
            expected[u["id"]] = None if u["id"] in taken else fixed
        return expected

    def expected_cigars(self, taken: set[int]) -> dict[int, dict[str, Any] | None]:
        """Each monolith cigar's row (with owner_id) after the import, or None if left out."""
        users = self.expected_users(taken)
        expected: dict[int, dict[str, Any] | None] = {}
        for c in self.cigars:
            row = self.cigar_fixes.get(c["id"], {k: v for k, v in c.items() if k != "id"})
            expected[c["id"]] = row if row is not None and users.get(row["owner_id"]) is not None else None
        return expected


def _normalised(email: str) -> str:
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _dirty_users(sqlite: bool) -> tuple[dict[int, dict[str, Any]], dict[int, tuple[str, str] | None]]:
    """Rows the monolith's API let in that our registration refuses, and what fixing them stores."""
    rows: dict[int, dict[str, Any]] = {
        10: {"username": "josé garcía"}, 11: {"username": "ab"}, 12: {"username": None}, 13: {"username": "x" * 40},
        14: {"username": "Alice"}, 15: {"username": "alice"},
        16: {"email": "not-an-email"}, 17: {"email": None},
        18: {"email": "carol.smith@example.com"}, 19: {"email": "Carol.Smith@example.com"},
        20: {"hashed_password": None}, 21: {"hashed_password": "plaintext-password"},
        22: {"email": "Dave@EXAMPLE.COM"}, 23: {"username": "MixedCase"},
    }  # fmt: skip
    fixes: dict[int, tuple[str, str] | None] = {
        10: ("jose_garcia", "user10@example.com"), 11: ("user_11", "user11@example.com"),
        12: ("user_12", "user12@example.com"), 13: ("x" * 24, "user13@example.com"),
        15: ("alice_15", "user15@example.com"), 16: ("user16", PLACEHOLDER.format(16)),
        17: ("user17", PLACEHOLDER.format(17)), 19: ("user19", PLACEHOLDER.format(19)), 20: None, 21: None,
    }  # fmt: skip
    return rows, fixes


def _dirty_cigars(sqlite: bool) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any] | None]]:
    long_name, long_notes = "N" * 150, "é" * 3000
    rows: dict[int, dict[str, Any]] = {
        6: {"name": None}, 7: {"name": ""}, 8: {"name": "   "}, 9: {"brand": None}, 10: {"origin": None},
        11: {"flavor_notes": None}, 12: {"name": long_name}, 13: {"flavor_notes": long_notes}, 14: {"rating": 0},
        15: {"rating": 7}, 16: {"rating": -2}, 17: {"rating": None}, 18: {"owner_id": None},
        25: {"name": None, "rating": 9}, 22: {"owner_id": 20}, 24: {"name": "Ñandú 日本 🚬 \"quoted\", comma"},
    }  # fmt: skip
    fixes: dict[int, dict[str, Any] | None] = {
        6: {"name": "(no name)"}, 7: {"name": "(no name)"}, 8: {"name": "(no name)"}, 9: {"brand": "(no brand)"},
        10: {"origin": ""}, 11: {"flavor_notes": ""}, 12: {"name": long_name[:100]},
        13: {"flavor_notes": long_notes[:2000]}, 14: {"rating": 1}, 15: {"rating": 5}, 16: {"rating": 1},
        17: None, 18: None, 25: {"name": "(no name)", "rating": 5},
    }  # fmt: skip
    if sqlite:  # what only SQLite lets in: no foreign keys enforced, any type in any column, NUL in text
        rows |= {19: {"owner_id": 99999}, 20: {"rating": "good"}, 21: {"name": "Cohiba\x00Siglo"}}
        fixes |= {19: None, 20: None, 21: {"name": "CohibaSiglo"}}
    return rows, fixes


def build(users: int = 1200, cigars: int = 12000, sqlite: bool = True) -> FakeMonolith:
    """Users 1..~users (a few ids missing, as rolled-back inserts leave), cigars 1..~cigars. On SQLite user 1 is
    gone: the cigars 1-5 posted without a token (the monolith gave them owner 1) point at nobody; on PostgreSQL
    (foreign keys enforced) user 1 exists and owns them."""
    user_ids = [i for i in range(1, users + 1) if i % 101 != 0 and not (sqlite and i == 1)]
    hashes = _hash_all(user_ids)
    dirty_users, user_fixes = _dirty_users(sqlite)
    rows: list[dict[str, Any]] = []
    for i in user_ids:
        row: dict[str, Any] = {"id": i, "username": f"user{i}", "email": f"user{i}@example.com"}
        rows.append(row | {"hashed_password": hashes[i]} | dirty_users.get(i, {}))
    owners = [u["id"] for u in rows]
    dirty_cigars, cigar_fixes = _dirty_cigars(sqlite)
    cigar_rows: list[dict[str, Any]] = []
    for c in (i for i in range(1, cigars + 1) if i % 103 != 0):
        row = {"id": c, "name": f"Cigar {c}" + (" ✓" if c % 7 == 0 else ""), "brand": BRANDS[c % len(BRANDS)],
               "origin": ORIGINS[c % len(ORIGINS)], "flavor_notes": f"cedar, {c % 13} notes\nsecond line",
               "rating": c % 5 + 1, "owner_id": 1 if c <= 5 else owners[(c * 7919) % len(owners)]}  # fmt: skip
        cigar_rows.append(row | dirty_cigars.get(c, {}))
    fixed_cigars: dict[int, dict[str, Any] | None] = {}
    for row in cigar_rows:
        if row["id"] in cigar_fixes:
            fix = cigar_fixes[row["id"]]
            fixed_cigars[row["id"]] = None if fix is None else {k: v for k, v in row.items() if k != "id"} | fix
        elif sqlite and row["owner_id"] == 1:
            fixed_cigars[row["id"]] = None  # owner 1 does not exist
    return FakeMonolith(rows, cigar_rows, sqlite, user_fixes, fixed_cigars)


async def write(monolith: FakeMonolith, url: str) -> None:
    """Create the monolith's tables in the (empty) database at `url` and fill them."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            for table, rows in ((USERS, monolith.users), (CIGARS, monolith.cigars)):
                for start in range(0, len(rows), 1000):
                    await conn.execute(table.insert(), rows[start : start + 1000])
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="an empty database: sqlite:///PATH or postgresql://USER@HOST/DB")
    parser.add_argument("--users", type=int, default=1200)
    parser.add_argument("--cigars", type=int, default=12000)
    args = parser.parse_args()
    monolith = build(args.users, args.cigars, sqlite=args.url.startswith("sqlite"))
    asyncio.run(write(monolith, args.url))
    print(f"wrote {len(monolith.users):,} users and {len(monolith.cigars):,} cigars to {args.url}")


if __name__ == "__main__":
    main()
