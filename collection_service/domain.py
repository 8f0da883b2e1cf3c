"""Domain objects and errors of collection_service; no SQLAlchemy, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CigarFields:
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int


@dataclass(frozen=True, slots=True)
class Cigar:
    id: int
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int
    owner_id: int


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


class CollectionError(Exception):
    """Base of the errors a caller can cause; the message is safe to show to them."""


class InvalidInput(CollectionError):
    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class InvalidToken(CollectionError):
    def __init__(self, reason: str = "could not validate credentials") -> None:
        super().__init__(reason)


class CigarNotFound(CollectionError):
    def __init__(self, cigar_id: int) -> None:
        super().__init__(f"cigar {cigar_id} not found")


class NotCigarOwner(CollectionError):
    def __init__(self, cigar_id: int) -> None:
        super().__init__(f"cigar {cigar_id} belongs to another user")
