"""Who is calling: a verified token whose version its user's password changes have not revoked."""

from __future__ import annotations

import asyncio
import logging

from ..domain import InvalidToken
from ..ports import RevocationLog, TokenVerifier

log = logging.getLogger(__name__)


class Revocations:
    """The revocation log, kept in memory and caught up every few seconds, so that checking a token costs a
    dict lookup. A revocation this process records itself counts at once; one recorded by another process
    (a worker, a replica) counts from its next catch-up: within `keep_fresh`'s period."""

    def __init__(self, log_: RevocationLog) -> None:
        self._log = log_
        self._min_version: dict[int, int] = {}
        self._last_id = 0

    def min_version(self, user_id: int) -> int:
        return self._min_version.get(user_id, 0)

    def _note(self, user_id: int, min_version: int) -> None:
        if min_version > self._min_version.get(user_id, 0):
            self._min_version[user_id] = min_version

    async def record(self, user_id: int, min_version: int) -> None:
        await self._log.add(user_id, min_version)
        self._note(user_id, min_version)

    async def catch_up(self) -> None:
        for entry_id, user_id, min_version in await self._log.since(self._last_id):
            self._note(user_id, min_version)
            self._last_id = entry_id

    async def keep_fresh(self, every_seconds: float) -> None:
        """Catch up now (before the first authenticated call if possible), then every `every_seconds`."""
        while True:
            try:
                await self.catch_up()
            except Exception as exc:  # the database may be restarting: keep what we know, try again
                log.warning("cannot read token revocations: %s", exc)
            await asyncio.sleep(every_seconds)


class Authenticator:
    def __init__(self, tokens: TokenVerifier, revocations: Revocations) -> None:
        self._tokens = tokens
        self._revocations = revocations

    async def user_id(self, token: str) -> int:
        verified = await self._tokens.verify(token)
        if verified.version < self._revocations.min_version(verified.user_id):
            raise InvalidToken("token revoked by a password change: log in again")
        return verified.user_id
