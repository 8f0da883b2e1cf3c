"""Domain objects and errors of auth_service; no SQLAlchemy, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    hashed_password: str
    email_verified: bool = False
    token_version: int = 0  # raised by a password change: access tokens of a lower version are refused


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    email: str
    hashed_password: str


@dataclass(frozen=True, slots=True)
class LoginCounter:
    """Failed logins of one scope (account, address or both) since the last reset."""

    key: str
    failures: int
    last_failure_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A pending call to another service, e.g. deleting a deleted user's cigars."""

    id: int
    kind: str
    user_id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """What is stored of an email verification token (its hash is the key)."""

    user_id: int
    email: str
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    refresh_token: str = ""


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """What is stored of a refresh token (its hash is the key) and of the session (family) it belongs to."""

    family_id: str
    user_id: int
    created_at: datetime  # the idle lifetime runs from here: each rotation makes a new token
    used_at: datetime | None  # set when it was traded for the next one; presenting it again is a reuse
    family_expires_at: datetime  # the absolute lifetime of the session, from the login
    family_revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ResetRecord:
    """What is stored of a password reset token (its hash is the key)."""

    user_id: int
    token_version: int  # the user's token version when it was made: any password change since voids it
    email: str  # the address it was mailed to: an email change since voids it
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


class Cigar(NamedTuple):
    """A cigar as collection_service reports it; auth_service only passes it through. A NamedTuple, not a
    frozen dataclass: a profile carries up to hundreds of them, and building one costs a quarter as much."""

    id: int
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int
    owner_id: int


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    cigars: list[Cigar]


@dataclass(frozen=True, slots=True)
class MonolithUser:
    """A row of the FastAPI monolith's users table as it is: any column may be NULL or break our rules."""

    id: int
    username: str | None
    email: str | None
    hashed_password: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a monolith row cannot be stored as it is: `kind` names the rule, `fix` says what fixing does
    (None: it cannot be fixed, only left out)."""

    kind: str
    detail: str
    fix: str | None


@dataclass(frozen=True, slots=True)
class AdoptedUser:
    """A monolith user as it would be stored: same id, values fixed where the operator agreed to fixes."""

    id: int
    username: str
    email: str
    hashed_password: str
    email_verified: bool


@dataclass(frozen=True, slots=True)
class UserReview:
    """A monolith user checked against our rules: the problems found, the user as fixing would store them
    (None when a problem cannot be fixed), and the user to merge into (a case-duplicate email, with consent)."""

    source: MonolithUser
    problems: tuple[Problem, ...]
    fixed: AdoptedUser | None
    merge_into: int | None = None


class AdoptionOutcome(StrEnum):
    """What importing a monolith row did (or, in a dry run, would do)."""

    IMPORTED = "imported"
    MERGED = "merged"
    ALREADY_IMPORTED = "already_imported"  # by an earlier run: left as it is now, whatever happened since
    ID_TAKEN = "id_taken"  # a user of the new system has that id
    USERNAME_TAKEN = "username_taken"  # ... that username (case-insensitively)
    EMAIL_TAKEN = "email_taken"  # ... that email (case-insensitively)
    MERGE_TARGET_MISSING = "merge_target_missing"  # the user to merge into was not imported


class AuthError(Exception):
    """Base of the errors a caller can cause; the message is safe to show to them."""


class InvalidInput(AuthError):
    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class UsernameTaken(AuthError):
    def __init__(self) -> None:
        super().__init__("username already registered")


class EmailTaken(AuthError):
    def __init__(self) -> None:
        super().__init__("email already registered")


class UnsupportedGrantType(AuthError):
    def __init__(self, grant_type: str) -> None:
        super().__init__(f"grant_type {grant_type!r} is not supported; use 'password' or 'refresh_token'")


class InvalidCredentials(AuthError):
    """Wrong username or password. Deliberately does not say which (no user enumeration)."""

    def __init__(self) -> None:
        super().__init__("incorrect username or password")


class TooManyAttempts(AuthError):
    """Too many failed logins for this account or address; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed login attempts, try again in {retry_after} seconds")
        self.retry_after = retry_after


class WrongPassword(InvalidInput):
    def __init__(self) -> None:
        super().__init__([FieldViolation("current_password", "is incorrect")])


class VerificationTokenInvalid(AuthError):
    def __init__(self) -> None:
        super().__init__("the verification token is unknown, used or expired; ask for a new one")


class InvalidGrant(AuthError):
    """A refresh token that is unknown, used already, expired or revoked (RFC 6749 §5.2 invalid_grant)."""

    def __init__(self, reason: str = "the refresh token is invalid, expired or revoked: log in again") -> None:
        super().__init__(reason)


class ResetTokenInvalid(AuthError):
    def __init__(self) -> None:
        super().__init__("the password reset token is unknown, used or expired; ask for a new one")


class TooManyRequests(AuthError):
    """Asked too often (password reset mails, verification mails); try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests, try again in {retry_after} seconds")
        self.retry_after = retry_after


class EmailAlreadyVerified(AuthError):
    def __init__(self) -> None:
        super().__init__("the email address is verified already")


class EmailNotVerified(AuthError):
    def __init__(self) -> None:
        super().__init__("verify your email address before logging in")


class InvalidToken(AuthError):
    def __init__(self, reason: str = "could not validate credentials") -> None:
        super().__init__(reason)


class ImportRaced(Exception):
    """An import batch lost a race with the running service: a registration took an id, username or email
    between the batch's check and its insert, or (SQLite) another writer held the database. Nothing of the
    batch was written; running it again checks again and reports any clash."""


class DependencyUnavailable(AuthError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is unavailable, try again later")
