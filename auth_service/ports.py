"""What auth_service's use cases need from the outside world: one unit of work over its repositories, and the
services behind it (the user lookup, password hashing, tokens, mail, collection_service). The adapters
implement these; mypy checks them against these protocols in the composition root (server.py)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from service_kit.tokens import VerifiedToken

from .domain import (
    AdoptedUser,
    AdoptionOutcome,
    Cigar,
    IssuedToken,
    LoginCounter,
    NewUser,
    OutboxItem,
    RefreshRecord,
    ResetRecord,
    User,
    VerificationRecord,
)


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None:
        """The live user (None once deleted), read inside the unit of work."""

    async def get_by_username(self, username: str) -> User | None: ...
    async def email_exists(self, email: str, other_than: int | None = None) -> bool:
        """Whether a user (other than `other_than`) has this email in any letter case."""

    async def add(self, new: NewUser) -> User:
        """Raises UsernameTaken or EmailTaken if a concurrent registration won the unique index."""

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        """The same password, hashed anew (a stronger scheme): tokens stay valid."""

    async def change_password(self, user_id: int, hashed_password: str) -> int:
        """A new password: the token version goes up by one (returned), so every older token is refused."""

    async def raise_token_version(self, user_id: int) -> int:
        """The password unchanged, the token version one higher (returned): every older token is refused."""

    async def get_by_email(self, email: str) -> User | None:
        """The live user with this email in any letter case."""

    async def update_email(self, user_id: int, email: str) -> None:
        """The new address starts unverified; EmailTaken if someone else holds it."""

    async def set_email_verified(self, user_id: int) -> None: ...
    async def delete(self, user_id: int, now: datetime) -> None:
        """Scrubs the user: the id is never handed out again, the username and email become free."""


class LoginCounters(Protocol):
    async def get(self, keys: Iterable[str]) -> dict[str, LoginCounter]: ...
    async def lock(self, keys: Iterable[str]) -> dict[str, LoginCounter]:
        """The counters, created if missing, held until the unit of work ends: concurrent callers queue."""

    async def record_failure(self, keys: Iterable[str], now: datetime, reset_before: datetime) -> None: ...
    async def record_success(self, reset: Iterable[str], refund: Iterable[str], known: str, now: datetime) -> None:
        """Reset `reset`, take one claimed failure back from `refund`, remember that `known` logged in."""


class Outbox(Protocol):
    async def add(self, kind: str, user_id: int, now: datetime) -> None: ...
    async def due(self, now: datetime, limit: int) -> list[OutboxItem]: ...
    async def claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        """Postpone a due item to `until`; True only for the one caller that did (it delivers the item)."""

    async def done(self, item_id: int) -> None: ...
    async def retry_later(self, item_id: int, next_attempt_at: datetime, error: str) -> None: ...


class StaleCounters(Protocol):
    async def prune(self, failures_before: datetime, successes_before: datetime) -> int:
        """Delete the login counters last failed at or before `failures_before` and, if they ever
        succeeded, last succeeded at or before `successes_before`; how many went."""


class EndedSessions(Protocol):
    async def prune(self, now: datetime) -> int:
        """Delete the refresh tokens and families of sessions expired or revoked by `now`, and the reset tokens
        expired by then; how many rows went."""


class EmailVerifications(Protocol):
    async def add(self, token_hash: str, user_id: int, email: str, expires_at: datetime) -> None: ...
    async def get(self, token_hash: str) -> VerificationRecord | None: ...
    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """True only for the one caller that used it first."""


class RefreshTokens(Protocol):
    async def start_family(self, family_id: str, user_id: int, now: datetime, expires_at: datetime) -> None: ...
    async def add(self, token_hash: str, family_id: str, now: datetime) -> None: ...
    async def get(self, token_hash: str) -> RefreshRecord | None:
        """The token and its family, which concurrent refreshes of the same session wait for."""

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """True only for the one caller that used it first."""

    async def revoke_family(self, family_id: str, now: datetime) -> None: ...
    async def revoke_user(self, user_id: int, now: datetime) -> None:
        """Every session of the user ends."""


class PasswordResets(Protocol):
    async def add(
        self, token_hash: str, user_id: int, token_version: int, email: str, expires_at: datetime
    ) -> None: ...

    async def get(self, token_hash: str) -> ResetRecord | None: ...
    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """True only for the one caller that used it first."""


class UnitOfWork(Protocol):
    """`async with uow:` begins; `await uow.commit()` commits; leaving the block without it rolls back."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def counters(self) -> LoginCounters: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def verifications(self) -> EmailVerifications: ...
    @property
    def refresh_tokens(self) -> RefreshTokens: ...
    @property
    def resets(self) -> PasswordResets: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class UserAdoptionStore(Protocol):
    """A unit of work over the users and the import ledger (which monolith user became which user, so that a
    second run knows what the first did, even for rows changed or deleted since)."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def reserve_ids(self, above: int) -> None:
        """New users get ids above `above` from now on; never lowers what would be handed out next."""

    async def imported(self, monolith_ids: Collection[int]) -> dict[int, int]:
        """The ledger: monolith id -> the user it became (itself, or the user it was merged into)."""

    async def clashes(self, users: Sequence[AdoptedUser]) -> dict[int, AdoptionOutcome]:
        """The users an existing row blocks (same id, or username or email but for letter case), and how."""

    async def live(self, user_ids: Collection[int]) -> set[int]:
        """Those of the ids that are users now (not deleted)."""

    async def add(self, users: Sequence[AdoptedUser]) -> None:
        """Stores them with their ids, in the ledger too. ImportRaced if a concurrent write got in the way."""

    async def add_merges(self, merges: Sequence[tuple[int, int]]) -> None:
        """Ledger entries only: (monolith id, the user it was merged into)."""


UserAdoptionStoreFactory = Callable[[], UserAdoptionStore]


class UserLookup(Protocol):
    """The live user with this id, read outside any unit of work: one autocommit statement per call."""

    async def get(self, user_id: int) -> User | None: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, hashed: str) -> bool: ...
    async def verify_and_update(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, a new hash if the stored one is outdated). With no hash, a dummy one is checked: an
        unknown user costs the same time as a wrong password."""


class TokenIssuer(Protocol):
    def issue(self, user_id: int, version: int, session: str = "") -> IssuedToken:
        """An access token of the user's current token version, naming the session (`sid`) it belongs to."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> VerifiedToken:
        """The user id and token version of a bearer token; raises (service_kit's TokenRejected) if it
        authenticates nobody."""


class CigarDirectory(Protocol):
    """The caller's cigars, as collection_service lists them for the caller's own bearer token."""

    async def list_mine(self, token: str) -> list[Cigar]: ...


class CollectionAccounts(Protocol):
    """collection_service's side of what happens to an account: its cigars go when it is deleted, its old
    tokens are refused when its password changes."""

    async def delete_cigars(self, user_id: int) -> int: ...
    async def revoke_tokens(self, user_id: int, min_version: int) -> None: ...


class EmailSender(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


Clock = Callable[[], datetime]
