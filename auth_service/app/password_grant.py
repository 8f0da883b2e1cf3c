"""The OAuth2 password grant (RFC 6749 §4.3): same answer for unknown users, throttled, rehashing old hashes."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import timedelta

from ..domain import (
    EmailNotVerified,
    FieldViolation,
    InvalidCredentials,
    InvalidInput,
    IssuedToken,
    TooManyAttempts,
    UnsupportedGrantType,
)
from ..ports import Clock, PasswordHasher, TokenIssuer, UnitOfWorkFactory
from .rules import given_password_violations
from .throttle import Throttle, ThrottleKeys

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


class PasswordGrant:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        throttle: Throttle,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        allow_unverified: bool = True,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._issuer = issuer
        self._throttle = throttle
        self._clock = clock
        self._sleep = sleep
        self._allow_unverified = allow_unverified

    async def issue_token(self, grant_type: str, username: str, password: str, client_address: str) -> IssuedToken:
        if grant_type not in ("", "password"):
            raise UnsupportedGrantType(grant_type)
        violations = [FieldViolation("username", "is required")] if not username else []
        violations += given_password_violations(password)
        if violations:
            raise InvalidInput(violations)
        keys = ThrottleKeys.of(username, client_address)
        now = self._clock()
        async with self._uow() as uow:
            user = await uow.users.get_by_username(username)
            counters = await uow.counters.get(keys.all)
        # Checked the same way whether the account exists or not: throttling must not reveal who is registered.
        wait = self._throttle.retry_after(counters, keys, now)
        if wait > 0:
            raise TooManyAttempts(math.ceil(wait))
        delay = self._throttle.delay(counters, keys, now)
        if delay > 0:
            await self._sleep(delay)
        # Always verify, against a dummy hash when the user is unknown: same answer, same time.
        ok, new_hash = await self._hasher.verify_and_update(password, user.hashed_password if user else None)
        if not ok or user is None:
            await self._record_failure(keys)
            raise InvalidCredentials()
        async with self._uow() as uow:
            await uow.counters.record_success(reset=(keys.pair, keys.account), known=keys.pair, now=self._clock())
            if new_hash is not None:  # bcrypt from the seed, or weaker argon2 parameters: upgrade now
                await uow.users.set_password_hash(user.id, new_hash)
            await uow.commit()
        if new_hash is not None:
            log.info("rehashed the password of user id=%d", user.id)
        if not (self._allow_unverified or user.email_verified):
            raise EmailNotVerified()
        return self._issuer.issue(user.id)

    async def _record_failure(self, keys: ThrottleKeys) -> None:
        now = self._clock()
        reset_before = now - timedelta(seconds=self._throttle.policy.failure_reset_seconds)
        async with self._uow() as uow:
            await uow.counters.record_failure(keys.all, now, reset_before)
            await uow.commit()
