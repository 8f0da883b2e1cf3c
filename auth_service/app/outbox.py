"""Drains the outbox: calls to collection_service that must happen even if it is down at the time.

An account deletion commits the scrubbed user and an outbox row in one transaction, then this
drainer deletes the user's cigars in collection_service, retrying with back-off until it works.
Several replicas may drain the same row at once; DeleteMyCigars is idempotent, so that is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from ..domain import DependencyUnavailable, InvalidToken
from ..ports import AccountCleaner, Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)
DELETE_CIGARS = "delete_cigars"


class OutboxDrainer:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        cleaner: AccountCleaner,
        clock: Clock,
        poll_seconds: float,
        max_backoff_seconds: float,
        batch: int = 20,
    ) -> None:
        self._uow = uow
        self._cleaner = cleaner
        self._clock = clock
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._batch = batch

    async def drain_once(self) -> int:
        """Try every due item once; returns how many are done."""
        async with self._uow() as uow:
            items = await uow.outbox.due(self._clock(), self._batch)
        done = 0
        for item in items:
            try:
                deleted = await self._cleaner.delete_cigars(item.user_id)
            except (DependencyUnavailable, InvalidToken) as exc:
                backoff = min(2.0**item.attempts, self._max_backoff)
                async with self._uow() as uow:
                    await uow.outbox.retry_later(item.id, self._clock() + timedelta(seconds=backoff), str(exc))
                    await uow.commit()
                log.warning("outbox item %d (%s) failed, retry in %.0fs: %s", item.id, item.kind, backoff, exc)
                continue
            async with self._uow() as uow:
                await uow.outbox.done(item.id)
                await uow.commit()
            log.info("outbox item %d done: %d cigar(s) of user id=%d deleted", item.id, deleted, item.user_id)
            done += 1
        return done

    async def run(self) -> None:
        """Drain forever (the server's background task); a failed round is logged and retried."""
        while True:
            try:
                await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
            await asyncio.sleep(self._poll)
