"""Password hashing with argon2id (bcrypt hashes still verify), run off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from passlib.context import CryptContext
from passlib.exc import PasswordSizeError

# OWASP password storage cheat sheet: argon2id with m >= 19 MiB, t >= 2, p = 1.
# bcrypt stays verifiable for hashes imported from the seed's database.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2


def make_context() -> CryptContext:
    return CryptContext(
        schemes=["argon2", "bcrypt"],
        deprecated=["bcrypt"],
        argon2__type="ID",
        argon2__memory_cost=ARGON2_MEMORY_KIB,
        argon2__time_cost=ARGON2_TIME_COST,
        argon2__parallelism=1,
    )


class PasslibHasher:
    """Hashes and verifies in a thread pool: argon2 releases the GIL, so the event loop keeps serving."""

    def __init__(self, workers: int, context: CryptContext | None = None) -> None:
        self._context = context or make_context()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash")
        # Verified against when the user does not exist, so that an unknown username costs
        # the same time as a wrong password and does not reveal who is registered.
        self._dummy_hash = self._context.hash("not-a-real-password")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._context.hash, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        ok, _ = await self.verify_and_update(password, hashed)
        return ok

    async def verify_and_update(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, new hash or None): a new hash when the stored one is bcrypt or below today's parameters,
        so that old hashes are upgraded to argon2id at the next successful login."""
        target = hashed if hashed is not None else self._dummy_hash
        ok, new_hash = await asyncio.get_running_loop().run_in_executor(self._pool, self._verify, password, target)
        if hashed is None:
            return False, None
        return ok, new_hash if ok else None

    def _verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        try:
            return self._context.verify_and_update(password, hashed)  # type: ignore[no-any-return]
        except PasswordSizeError:  # longer than any password that can be set: wrong, never a crash (a 500)
            return False, None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
