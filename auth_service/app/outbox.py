"""Drains the outbox: calls to collection_service and mails that must happen even if their server is down.

An account deletion (or a password change) commits the user's row and an outbox row in one transaction,
then this drainer tells collection_service (delete the user's cigars; refuse the user's older tokens),
retrying with back-off until it works. Several replicas may drain the same row at once; both calls are
idempotent, so that is harmless. A mail is not: its row is claimed first (one drainer sends it), for a lease
after which another drainer may try again if the first never finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from ..domain import DependencyUnavailable, InvalidToken, OutboxItem
from ..ports import Clock, CollectionAccounts, UnitOfWorkFactory

log = logging.getLogger(__name__)
DELETE_CIGARS = "delete_cigars"
REVOKE_TOKENS = "revoke_tokens"
MAIL_PASSWORD_RESET = "mail_password_reset"  # noqa: S105 (an outbox kind)
MAIL_VERIFICATION = "mail_verification"
MAIL_LEASE = timedelta(minutes=2)  # a send that has not finished by then is taken to have failed
Mailer = Callable[[int], Awaitable[str]]  # user id -> what was done


class OutboxDrainer:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        accounts: CollectionAccounts,
        clock: Clock,
        poll_seconds: float,
        max_backoff_seconds: float,
        batch: int = 20,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._clock = clock
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._batch = batch
        self._mailers: dict[str, Mailer] = {}
        self._kicks: set[asyncio.Task[int]] = set()

    def add_mailer(self, kind: str, mailer: Mailer) -> None:
        """What delivers outbox rows of `kind` (the mail use cases, which need this drainer to kick it)."""
        self._mailers[kind] = mailer

    def soon(self) -> None:
        """Drain in the background now, not in the caller's request (a mail server may be slow)."""
        task = asyncio.create_task(self.drain_once())
        self._kicks.add(task)
        task.add_done_callback(self._kicked)

    def stop(self) -> None:
        """Cancel the background drains `soon` started (what they had not done stays in the outbox)."""
        for task in list(self._kicks):
            task.cancel()

    def _kicked(self, task: asyncio.Task[int]) -> None:
        self._kicks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox drain failed", exc_info=task.exception())

    async def drain_once(self) -> int:
        """Try every due item once; returns how many are done."""
        async with self._uow() as uow:
            items = await uow.outbox.due(self._clock(), self._batch)
        done = 0
        for item in items:
            if item.kind in self._mailers and not await self._claim(item):
                continue  # another drainer is sending it
            try:
                outcome = await self._deliver(item)
            except (DependencyUnavailable, InvalidToken, OSError, ValueError) as exc:  # smtplib's are OSErrors
                backoff = min(2.0**item.attempts, self._max_backoff)
                async with self._uow() as uow:
                    await uow.outbox.retry_later(item.id, self._clock() + timedelta(seconds=backoff), str(exc))
                    await uow.commit()
                log.warning("outbox item %d (%s) failed, retry in %.0fs: %s", item.id, item.kind, backoff, exc)
                continue
            async with self._uow() as uow:
                await uow.outbox.done(item.id)
                await uow.commit()
            log.info("outbox item %d done: %s of user id=%d", item.id, outcome, item.user_id)
            done += 1
        return done

    async def _claim(self, item: OutboxItem) -> bool:
        async with self._uow() as uow:
            claimed = await uow.outbox.claim(item.id, self._clock(), self._clock() + MAIL_LEASE)
            await uow.commit()
        return claimed

    async def _deliver(self, item: OutboxItem) -> str:
        if item.kind in self._mailers:
            return await self._mailers[item.kind](item.user_id)
        if item.kind == DELETE_CIGARS:
            return f"{await self._accounts.delete_cigars(item.user_id)} cigar(s) deleted"
        if item.kind == REVOKE_TOKENS:
            # The version as it is now: a later change raised it again, and the newest one covers both.
            async with self._uow() as uow:
                user = await uow.users.get(item.user_id)
            if user is None:
                return "nothing to revoke (account deleted)"
            await self._accounts.revoke_tokens(item.user_id, user.token_version)
            return f"tokens below version {user.token_version} revoked"
        raise ValueError(f"unknown outbox item kind {item.kind!r}")

    async def run(self) -> None:
        """Drain forever (the server's background task); a failed round is logged and retried."""
        while True:
            try:
                await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
            await asyncio.sleep(self._poll)
