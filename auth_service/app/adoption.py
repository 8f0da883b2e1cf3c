"""Importing the monolith's users: each batch checked against the users already here and the import ledger,
then written with the ids it had, in one transaction, or (a dry run) only checked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence

from ..domain import AdoptedUser, AdoptionOutcome, ImportRaced
from ..ports import UserAdoptionStoreFactory

log = logging.getLogger(__name__)
Outcomes = dict[int, tuple[AdoptionOutcome, int | None]]  # monolith id -> (what happened, the user it is now)
ATTEMPTS = 5


class UserAdoption:
    def __init__(self, store: UserAdoptionStoreFactory, attempts: int = ATTEMPTS) -> None:
        self._store = store
        self._attempts = attempts

    async def reserve_ids(self, above: int) -> None:
        """Registrations during and after the import get ids above every monolith id, so they never clash."""
        async with self._store() as store:
            await store.reserve_ids(above)
            await store.commit()

    async def imported(self, monolith_ids: Collection[int]) -> dict[int, int]:
        async with self._store() as store:
            return await store.imported(monolith_ids)

    async def adopt(self, users: Sequence[AdoptedUser], write: bool) -> Outcomes:
        """Each user is imported, or found imported by an earlier run, or blocked by a user of the new system
        (never overwritten). A race with a registration is retried: the next check reports the clash."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._adopt(users, write)
            except ImportRaced:
                if attempt == self._attempts:
                    raise
                log.info("an import batch raced with the running service; checking it again (%d)", attempt)
                await asyncio.sleep(0.1 * attempt)
        raise AssertionError("unreachable")

    async def _adopt(self, users: Sequence[AdoptedUser], write: bool) -> Outcomes:
        async with self._store() as store:
            ledger = await store.imported([u.id for u in users])
            fresh = [u for u in users if u.id not in ledger]
            clashes = await store.clashes(fresh)
            new = [u for u in fresh if u.id not in clashes]
            if write and new:
                await store.add(new)
                await store.commit()
        outcomes: Outcomes = {i: (AdoptionOutcome.ALREADY_IMPORTED, user_id) for i, user_id in ledger.items()}
        outcomes |= {i: (outcome, None) for i, outcome in clashes.items()}
        outcomes |= {u.id: (AdoptionOutcome.IMPORTED, u.id) for u in new}
        return outcomes

    async def merge(self, merges: Sequence[tuple[int, int]], write: bool, arriving: Collection[int] = ()) -> Outcomes:
        """(monolith id, user id to merge into): recorded in the ledger when that user is here (or, checking
        only, `arriving` with this run), so their cigars go to that account; the merged user is not created."""
        async with self._store() as store:
            ledger = await store.imported([m for m, _ in merges])
            live = await store.live({target for _, target in merges}) | set(arriving)
            fresh = [(m, t) for m, t in merges if m not in ledger and t in live]
            if write and fresh:
                await store.add_merges(fresh)
                await store.commit()
        outcomes: Outcomes = {m: (AdoptionOutcome.MERGE_TARGET_MISSING, None) for m, _ in merges}
        outcomes |= {m: (AdoptionOutcome.ALREADY_IMPORTED, user_id) for m, user_id in ledger.items()}
        outcomes |= {m: (AdoptionOutcome.MERGED, t) for m, t in fresh}
        return outcomes
