"""Registration: a new user with a unique username and email, who starts unverified."""

from __future__ import annotations

import logging

from ..domain import EmailTaken, NewUser, User, UsernameTaken
from ..ports import PasswordHasher, UnitOfWorkFactory
from .rules import check_registration
from .verification import EmailVerification

log = logging.getLogger(__name__)


class Registration:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, verification: EmailVerification) -> None:
        self._uow = uow
        self._hasher = hasher
        self._verification = verification

    async def register(self, username: str, email: str, password: str) -> User:
        email = check_registration(username, email, password)
        async with self._uow() as uow:
            # Checked first for a clear answer; the unique indexes still decide a race (see the repository).
            if await uow.users.get_by_username(username):
                raise UsernameTaken()
            if await uow.users.email_exists(email):
                raise EmailTaken()
        hashed = await self._hasher.hash(password)  # outside any transaction: it takes ~20 ms of CPU
        async with self._uow() as uow:
            user = await uow.users.add(NewUser(username=username, email=email, hashed_password=hashed))
            await uow.commit()
        log.info("registered user id=%d", user.id)
        await self._verification.send(user)
        return user
