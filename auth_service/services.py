"""Use cases of auth_service: register a user, read the caller's profile (login is in login.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from .domain import (
    Cigar,
    EmailTaken,
    InvalidToken,
    NewUser,
    Profile,
    User,
    UsernameTaken,
)
from .passwords import PasswordHasher
from .profile import EmailChanged
from .tokens import TokenVerifier, bearer_token
from .validation import check_registration

log = logging.getLogger(__name__)


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def email_exists(self, email: str) -> bool: ...
    async def add(self, new: NewUser) -> User: ...


class UnitOfWork(Protocol):
    users: UserRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class UserLookup(Protocol):
    """The live user with this id, read outside any unit of work: GET /users/me/'s one database read."""

    async def get(self, user_id: int) -> User | None: ...


class CigarDirectory(Protocol):
    """The caller's cigars, as collection_service lists them for the caller's own bearer token."""

    async def list_mine(self, token: str) -> list[Cigar]: ...


class AuthService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        users: UserLookup,
        hasher: PasswordHasher,
        verifier: TokenVerifier,
        cigars: CigarDirectory,
        verification: EmailChanged,
    ) -> None:
        self._uow = uow
        self._users = users
        self._hasher = hasher
        self._verifier = verifier
        self._cigars = cigars
        self._verification = verification

    async def register_user(self, username: str, email: str, password: str) -> User:
        email = check_registration(username, email, password)
        async with self._uow() as uow:
            # Checked first for a clear answer; the unique indexes still decide a race (see repository).
            if await uow.users.get_by_username(username):
                raise UsernameTaken()
            if await uow.users.email_exists(email):
                raise EmailTaken()
        hashed = await self._hasher.hash(password)
        async with self._uow() as uow:
            user = await uow.users.add(NewUser(username=username, email=email, hashed_password=hashed))
            await uow.commit()
        log.info("registered user id=%d", user.id)
        await self._verification.send_verification(user)  # new users start unverified
        return user

    async def get_profile(self, authorization: str | None) -> Profile:
        token = bearer_token(authorization)
        user_id = self._verifier.verify(token)
        user, cigars = await asyncio.gather(
            self._load_user(user_id), self._cigars.list_mine(token), return_exceptions=True
        )
        # A deleted user is told 401 even while collection_service is down: the user check decides first.
        for outcome in (user, cigars):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(user, User) and isinstance(cigars, list)
        return Profile(user=user, cigars=cigars)

    async def _load_user(self, user_id: int) -> User:
        user = await self._users.get(user_id)
        if user is None:  # a valid token for a user that no longer exists
            raise InvalidToken()
        return user
