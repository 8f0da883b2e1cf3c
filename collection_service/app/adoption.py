"""Importing the monolith's cigars: each batch checked against the cigars already here, the import ledger and
the deleted accounts, then written with the ids it had, in one transaction, or (a dry run) only checked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence

from ..domain import AdoptionOutcome, Cigar, ImportRaced
from ..ports import CigarAdoptionStoreFactory

log = logging.getLogger(__name__)
ATTEMPTS = 5


class CigarAdoption:
    def __init__(self, store: CigarAdoptionStoreFactory, attempts: int = ATTEMPTS) -> None:
        self._store = store
        self._attempts = attempts

    async def reserve_ids(self, above: int) -> None:
        """Cigars added during and after the import get ids above every monolith id, so they never clash."""
        async with self._store() as store:
            await store.reserve_ids(above)
            await store.commit()

    async def imported(self, cigar_ids: Collection[int]) -> set[int]:
        async with self._store() as store:
            return await store.imported(cigar_ids)

    async def adopt(self, cigars: Sequence[Cigar], write: bool) -> dict[int, AdoptionOutcome]:
        """Each cigar (its owner already the user it belongs to here) is imported, or found imported by an
        earlier run, or blocked by a cigar of the new system or its owner's deleted account (never
        overwritten, never brought back). A race with the running service is retried."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._adopt(cigars, write)
            except ImportRaced:
                if attempt == self._attempts:
                    raise
                log.info("an import batch raced with the running service; checking it again (%d)", attempt)
                await asyncio.sleep(0.1 * attempt)
        raise AssertionError("unreachable")

    async def _adopt(self, cigars: Sequence[Cigar], write: bool) -> dict[int, AdoptionOutcome]:
        async with self._store() as store:
            ids = [c.id for c in cigars]
            outcomes = dict.fromkeys(await store.imported(ids), AdoptionOutcome.ALREADY_IMPORTED)
            outcomes |= {i: AdoptionOutcome.ID_TAKEN for i in await store.taken(ids) if i not in outcomes}
            deleted = await store.deleted_owners({c.owner_id for c in cigars})
            outcomes |= {c.id: AdoptionOutcome.OWNER_DELETED for c in cigars if c.owner_id in deleted
                         and c.id not in outcomes}  # fmt: skip
            new = [c for c in cigars if c.id not in outcomes]
            if write and new:
                await store.add(new)
                await store.commit()
        return outcomes | dict.fromkeys((c.id for c in new), AdoptionOutcome.IMPORTED)
