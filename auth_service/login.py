"""The OAuth2 password grant (RFC 6749 §4.3): same answer for unknown users, throttled, rehashing old hashes."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from .domain import (
    EmailNotVerified,
    FieldViolation,
    InvalidCredentials,
    InvalidInput,
    IssuedToken,
    LoginCounter,
    TooManyAttempts,
    UnsupportedGrantType,
    User,
)
from .passwords import PasswordHasher
from .throttle import Throttle, ThrottleKeys
from .tokens import TokenIssuer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class LoginUsers(Protocol):
    async def get_by_username(self, username: str) -> User | None: ...
    async def set_password_hash(self, user_id: int, hashed_password: str) -> None: ...


class LoginCounters(Protocol):
    async def get(self, keys: Iterable[str]) -> dict[str, LoginCounter]: ...
    async def record_failure(self, keys: Iterable[str], now: datetime, reset_before: datetime) -> None: ...
    async def record_success(self, reset: Iterable[str], known: str, now: datetime) -> None: ...


class LoginUnitOfWork(Protocol):
    users: LoginUsers
    counters: LoginCounters

    async def __aenter__(self) -> LoginUnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...


class TokenService:
    def __init__(
        self,
        uow: Callable[[], LoginUnitOfWork],
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
        missing = [
            FieldViolation(f, "is required") for f, v in (("username", username), ("password", password)) if not v
        ]
        if missing:
            raise InvalidInput(missing)
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
