"""Checking a password someone types, wherever they type it (logging in, or confirming a sensitive change with
a stolen token's help): throttled per account, address and pair, each attempt claimed before it is checked."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from ..domain import TooManyAttempts, User
from ..ports import Clock, PasswordHasher, UnitOfWorkFactory
from .throttle import Throttle, ThrottleKeys

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


class InFlight:
    """At most `limit` attempts per key at once in this process; the others wait their turn (in order). Idle
    keys are forgotten, so memory follows the attempts in flight, not the keys ever seen."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        semaphore, waiting = self._slots.get(key, (None, 0))
        if semaphore is None:
            semaphore = asyncio.Semaphore(self._limit)
        self._slots[key] = (semaphore, waiting + 1)
        try:
            async with semaphore:
                yield
        finally:
            waiting = self._slots[key][1] - 1
            if waiting:
                self._slots[key] = (semaphore, waiting)
            else:
                del self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)


class PasswordCheck:
    """Claimed attempts count as failures until checked, so attempts of one account from one address that run
    at the same time would add up to a delay or a lock even when every one is right (a script's pool of
    workers logging in at once). They take turns instead: fewer at once in this process than the failures
    that start the delay, so right ones never add up; wrong ones still cost one attempt each, and once the
    lock holds the rest are refused unchecked."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        throttle: Throttle,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._throttle = throttle
        self._clock = clock
        self._sleep = sleep
        self._in_flight = InFlight(max(1, throttle.policy.delay_after - 1))

    async def check(self, username: str, password: str, client_address: str) -> User | None:
        """The user when `password` is theirs; None for a wrong password or an unknown user (the same time is
        spent on both: a dummy hash is checked). TooManyAttempts when the counters say so. An old hash that
        matches is upgraded to today's parameters (bcrypt from the seed, weaker argon2)."""
        keys = ThrottleKeys.of(username, client_address)
        async with self._in_flight.turn(keys.pair):
            return await self._check(username, password, keys)

    async def _check(self, username: str, password: str, keys: ThrottleKeys) -> User | None:
        user, delay = await self._claim_attempt(username, keys)
        if delay > 0:
            await self._sleep(delay)
        ok, new_hash = await self._hasher.verify_and_update(password, user.hashed_password if user else None)
        if not ok or user is None:
            return None  # the attempt was counted as a failure when it was claimed
        async with self._uow() as uow:
            await uow.counters.record_success(
                reset=(keys.pair, keys.account), refund=(keys.address,), known=keys.pair, now=self._clock()
            )
            if new_hash is not None:
                await uow.users.set_password_hash(user.id, new_hash)
            await uow.commit()
        if new_hash is not None:
            log.info("rehashed the password of user id=%d", user.id)
        return user

    async def _claim_attempt(self, username: str, keys: ThrottleKeys) -> tuple[User | None, float]:
        """Count this attempt as a failure before the password is checked, with the counters locked, so that
        N concurrent guesses cost N attempts and none of them is checked once the lock is reached; a check
        that then succeeds resets its account and pair counters and takes its claim back from the address.
        A refused attempt is not counted (rolled back), so the wait grows only when someone fails again
        after waiting it out. Returns the user (None if unknown) and how long to hold the answer."""
        now = self._clock()
        reset_before = now - timedelta(seconds=self._throttle.policy.failure_reset_seconds)
        async with self._uow() as uow:
            counters = await uow.counters.lock(keys.all)
            # Checked the same way whether the account exists or not: throttling must not reveal who is registered.
            wait = self._throttle.retry_after(counters, keys, now)
            if wait > 0:
                raise TooManyAttempts(math.ceil(wait))
            await uow.counters.record_failure(keys.all, now, reset_before)
            user = await uow.users.get_by_username(username)
            await uow.commit()
        return user, self._throttle.delay(counters, keys, now)
