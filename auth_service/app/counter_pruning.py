"""Pruning the login counters: a row goes once neither its failures nor its success still matter.

Failures older than the throttle's reset period count as zero already (app/throttle.py). A success on a
pair (account + address) is what exempts that address from the account-wide lock: it is kept for
`known_address_for` after the last successful login from there, then forgotten with the row.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from ..ports import Clock, StaleCounters
from .periodic import Sleep, every

log = logging.getLogger(__name__)


class CounterPruning:
    def __init__(
        self,
        counters: StaleCounters,
        clock: Clock,
        failure_reset: timedelta,
        known_address_for: timedelta,
        every_seconds: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._counters = counters
        self._clock = clock
        self._failure_reset = failure_reset
        self._known_address_for = known_address_for
        self._every = every_seconds
        self._sleep = sleep

    async def prune_once(self) -> int:
        now = self._clock()
        pruned = await self._counters.prune(
            failures_before=now - self._failure_reset, successes_before=now - self._known_address_for
        )
        if pruned:
            log.info("pruned %d login counters", pruned)
        return pruned

    async def run(self) -> None:
        """Prune now and then every `every_seconds` (the server's background task); a failed round is logged."""
        await every(self._every, self.prune_once, log, "pruning login counters", self._sleep)
