"""Drains the outbox: calls to collection_service that must happen even if it is down at the time.

An account deletion commits the scrubbed user and an outbox row in one transaction, then this
drainer deletes the user's cigars in collection_service, retrying with back-off until it works.
Several replicas may drain the same row at once; DeleteMyCigars is idempotent, so that is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from .domain import DependencyUnavailable, InvalidToken, OutboxItem

log = logging.getLogger(__name__)
DELETE_CIGARS = "delete_cigars"


class Outbox(Protocol):
    async def add(self, kind: str, user_id: int, now: datetime) -> None: ...
    async def due(self, now: datetime, limit: int) -> list[OutboxItem]: ...
    async def done(self, item_id: int) -> None: ...
    async def retry_later(self, item_id: int, next_attempt_at: datetime, error: str) -> None: ...


class OutboxUnitOfWork(Protocol):
    outbox: Outbox

    async def __aenter__(self) -> OutboxUnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...


class AccountCleaner(Protocol):
    """collection_service's side of an account deletion."""

    async def delete_cigars(self, user_id: int) -> int: ...


class OutboxDrainer:
    def __init__(
        self,
        uow: Callable[[], OutboxUnitOfWork],
        cleaner: AccountCleaner,
        clock: Callable[[], datetime],
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
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Drain now instead of at the next poll."""
        self._wake.set()

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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()
