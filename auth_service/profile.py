"""Use cases on the caller's own account: change email or password, delete the account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from .domain import EmailTaken, FieldViolation, InvalidInput, InvalidToken, User, WrongPassword
from .outbox import DELETE_CIGARS, Outbox, OutboxDrainer
from .passwords import PasswordHasher
from .tokens import TokenVerifier, bearer_token
from .validation import normalise_email, password_violations

log = logging.getLogger(__name__)


class ProfileUsers(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def email_exists(self, email: str) -> bool: ...
    async def update_email(self, user_id: int, email: str) -> None: ...
    async def set_password_hash(self, user_id: int, hashed_password: str) -> None: ...
    async def delete(self, user_id: int, now: datetime) -> None: ...


class ProfileUnitOfWork(Protocol):
    users: ProfileUsers
    outbox: Outbox

    async def __aenter__(self) -> ProfileUnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...


class EmailChanged(Protocol):
    async def send_verification(self, user: User) -> None: ...


class ProfileService:
    def __init__(
        self,
        uow: Callable[[], ProfileUnitOfWork],
        hasher: PasswordHasher,
        verifier: TokenVerifier,
        drainer: OutboxDrainer,
        verification: EmailChanged,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._verifier = verifier
        self._drainer = drainer
        self._verification = verification
        self._clock = clock

    async def authenticate(self, authorization: str | None) -> User:
        user_id = self._verifier.verify(bearer_token(authorization))
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:  # a valid token of a deleted user
            raise InvalidToken()
        return user

    async def update_me(self, authorization: str | None, email: str | None) -> User:
        user = await self.authenticate(authorization)
        if email is None:
            return user
        try:
            email = normalise_email(email)
        except ValueError as exc:
            raise InvalidInput([FieldViolation("email", f"not a valid email address: {exc}")]) from exc
        if email == user.email:
            return user
        async with self._uow() as uow:
            if await uow.users.email_exists(email):
                raise EmailTaken()
            await uow.users.update_email(user.id, email)
            await uow.commit()
            updated = await uow.users.get(user.id)
        assert updated is not None
        await self._verification.send_verification(updated)
        return updated

    async def change_password(self, authorization: str | None, current: str, new: str) -> None:
        user = await self.authenticate(authorization)
        violations = [] if current else [FieldViolation("current_password", "is required")]
        violations += password_violations(new, "new_password")
        if violations:
            raise InvalidInput(violations)
        if not await self._hasher.verify(current, user.hashed_password):
            raise WrongPassword()
        hashed = await self._hasher.hash(new)
        async with self._uow() as uow:
            await uow.users.set_password_hash(user.id, hashed)
            await uow.commit()
        log.info("password changed for user id=%d", user.id)

    async def delete_me(self, authorization: str | None) -> None:
        """The account goes at once; its cigars go through the outbox, now or once collection_service is back."""
        user = await self.authenticate(authorization)
        async with self._uow() as uow:
            await uow.users.delete(user.id, self._clock())
            await uow.outbox.add(DELETE_CIGARS, user.id, self._clock())
            await uow.commit()
        log.info("deleted user id=%d", user.id)
        await self._drainer.drain_once()  # usually done before we answer; if not, the background task retries
