"""Domain objects and errors of collection_service; no SQLAlchemy, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class CigarFields:
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int


class Cigar(NamedTuple):
    """Immutable. A NamedTuple, not a frozen dataclass: lists build hundreds of them, from database rows in
    this field order (Cigar(*row)), at a quarter of the cost."""

    id: int
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int
    owner_id: int


@dataclass(frozen=True, slots=True)
class CigarPatch:
    """The fields to change; None means "leave as it is"."""

    name: str | None = None
    brand: str | None = None
    origin: str | None = None
    flavor_notes: str | None = None
    rating: int | None = None

    def changes(self) -> dict[str, str | int]:
        return {k: v for k in PATCHABLE if (v := getattr(self, k)) is not None}


PATCHABLE = ("name", "brand", "origin", "flavor_notes", "rating")


@dataclass(frozen=True, slots=True)
class CigarFilter:
    """What ListCigars narrows to; empty / 0 means no filter on that field."""

    owner_id: int = 0
    brand: str = ""
    origin: str = ""
    min_rating: int = 0
    q: str = ""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """skip/limit (REST) and page_size/page_token (AIP-158) as the caller sent them."""

    skip: int = 0
    limit: int | None = None
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class CigarPage:
    cigars: list[Cigar]
    next_page_token: str


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True, slots=True)
class MonolithCigar:
    """A row of the FastAPI monolith's cigars table as it is: any column may be NULL, of another type (SQLite
    stores what it is given), or break our rules."""

    id: int
    name: str | None
    brand: str | None
    origin: str | None
    flavor_notes: str | None
    rating: object
    owner_id: int | None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a monolith row cannot be stored as it is: `kind` names the rule, `fix` says what fixing does
    (None: it cannot be fixed, only left out)."""

    kind: str
    detail: str
    fix: str | None


@dataclass(frozen=True, slots=True)
class CigarReview:
    """A monolith cigar checked against our rules: its problems and its fields as fixing would store them
    (None when a problem cannot be fixed)."""

    source: MonolithCigar
    problems: tuple[Problem, ...]
    fixed: CigarFields | None


class AdoptionOutcome(StrEnum):
    """What importing a monolith cigar did (or, in a dry run, would do)."""

    IMPORTED = "imported"
    ALREADY_IMPORTED = "already_imported"  # by an earlier run: left as it is now, even if changed or deleted
    ID_TAKEN = "id_taken"  # a cigar of the new system has that id
    OWNER_DELETED = "owner_deleted"  # the owner deleted their account in the new system


class ImportRaced(Exception):
    """An import batch lost a race with the running service (a new cigar took an id, or SQLite's write lock
    was held). Nothing of the batch was written; running it again checks again."""


class CollectionError(Exception):
    """Base of the errors a caller can cause; the message is safe to show to them."""


class InvalidInput(CollectionError):
    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


ACCOUNT_DELETED = "this account has been deleted"


class InvalidToken(CollectionError):
    def __init__(self, reason: str = "could not validate credentials") -> None:
        super().__init__(reason)


class CigarNotFound(CollectionError):
    def __init__(self, cigar_id: int) -> None:
        super().__init__(f"cigar {cigar_id} not found")


class NotCigarOwner(CollectionError):
    def __init__(self, cigar_id: int) -> None:
        super().__init__(f"cigar {cigar_id} belongs to another user")


class KeysUnavailable(CollectionError):
    """A token's signing key is unknown and auth_service cannot be asked right now: retry later."""

    def __init__(self) -> None:
        super().__init__("cannot verify tokens right now (auth_service unreachable), try again later")
