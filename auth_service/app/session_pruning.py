"""Pruning ended sessions: refresh tokens of families that expired or were revoked, and expired reset tokens.

A used refresh token of a live session must stay (presenting it again is how reuse is detected); once its
session has ended, every token of it is refused whether its row is there or not, so the rows can go.
"""

from __future__ import annotations

import asyncio
import logging

from ..ports import Clock, EndedSessions
from .periodic import Sleep, every

log = logging.getLogger(__name__)


class SessionPruning:
    def __init__(
        self, sessions: EndedSessions, clock: Clock, every_seconds: float, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._every = every_seconds
        self._sleep = sleep

    async def prune_once(self) -> int:
        pruned = await self._sessions.prune(self._clock())
        if pruned:
            log.info("pruned %d rows of ended sessions and expired reset tokens", pruned)
        return pruned

    async def run(self) -> None:
        """Prune now and then every `every_seconds` (the server's background task); a failed round is logged."""
        await every(self._every, self.prune_once, log, "pruning ended sessions", self._sleep)
