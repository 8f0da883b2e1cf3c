"""What collection_service's use cases need from the outside world: the cigar store, the deleted-accounts unit
of work, and token verification. The adapters implement these; mypy checks them in server.py."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from types import TracebackType
from typing import Protocol, Self

from service_kit.tokens import VerifiedToken

from .domain import Cigar, CigarFields, CigarFilter


class CigarStore(Protocol):
    """The cigars, and which owners' accounts are deleted. Each call is one atomic statement: the use cases
    never need two writes to agree, so there is no transaction to hold open across calls."""

    async def find(self, f: CigarFilter, after_id: int, skip: int, limit: int) -> list[Cigar]: ...
    async def get(self, cigar_id: int) -> Cigar | None: ...
    async def list_by_owner(self, owner_id: int) -> list[Cigar]: ...
    async def page_by_owner(self, owner_id: int, after_id: int, limit: int) -> list[Cigar]:
        """The owner's cigars with ids above after_id, in id order, at most `limit` (an export's next page)."""

    async def add(self, owner_id: int, fields: CigarFields) -> Cigar | None:
        """The new cigar, or None when the owner's account is deleted (nothing is added then)."""

    async def update_owned(self, cigar_id: int, owner_id: int, changes: dict[str, str | int]) -> Cigar | None: ...
    async def delete_owned(self, cigar_id: int, owner_id: int) -> bool: ...
    async def owner_deleted(self, owner_id: int) -> bool: ...


class DeletedAccounts(Protocol):
    """A unit of work: `async with accounts:` begins, `await accounts.commit()` commits, leaving rolls back."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def delete_account(self, user_id: int) -> int:
        """Deletes the user's cigars and remembers the user as deleted; safe to repeat. Returns the count."""


class OwnCigarImport(Protocol):
    """A unit of work adding many cigars to one owner at once: all of them, or (leaving without commit) none."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def owner_deleted(self, owner_id: int) -> bool: ...
    async def add_all(self, owner_id: int, cigars: Sequence[CigarFields]) -> list[int]:
        """The new ids, in the order of `cigars`."""


class CigarAdoptionStore(Protocol):
    """A unit of work over the cigars and the import ledger (which monolith cigars were imported, so that a
    second run leaves them alone, even those changed or deleted since)."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def reserve_ids(self, above: int) -> None:
        """New cigars get ids above `above` from now on; never lowers what would be handed out next."""

    async def imported(self, cigar_ids: Collection[int]) -> set[int]: ...
    async def taken(self, cigar_ids: Collection[int]) -> set[int]:
        """Those of the ids that cigars of this system hold now."""

    async def deleted_owners(self, owner_ids: Collection[int]) -> set[int]: ...
    async def add(self, cigars: Sequence[Cigar]) -> None:
        """Stores them with their ids, in the ledger too. ImportRaced if a concurrent write got in the way."""


CigarAdoptionStoreFactory = Callable[[], CigarAdoptionStore]


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> VerifiedToken:
        """The user id and token version of a bearer token; raises (service_kit's TokenRejected) if it
        authenticates nobody, KeysUnavailable if its key is unknown and auth_service cannot be asked now."""


class Callers(Protocol):
    async def user_id(self, token: str) -> int:
        """Who a bearer token says is calling; raises if the token authenticates nobody now."""


class RevocationLog(Protocol):
    """Per user, the lowest token version still accepted, as an append-only log every process reads."""

    async def add(self, user_id: int, min_version: int) -> None: ...
    async def since(self, after: int) -> list[tuple[int, int, int]]:
        """(id, user_id, min_version) of the entries after the one with id `after`, in id order."""
