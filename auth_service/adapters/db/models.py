"""Tables of auth_service (the schema itself comes from the alembic history in migrations/)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy import Boolean, DateTime, Index, Integer, MetaData, String, false, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.db.session import NAMING_CONVENTION


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # casefolded username: uniqueness is case-insensitive ("Alice" and "alice" are one account)
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    email_verified: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Deleted accounts stay as scrubbed rows, so that their ids are never handed out again
    # (SQLite reuses the highest rowid) and their tokens can never belong to someone else.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Raised by every password change; access tokens carry the version they were issued under (ver).
    token_version: Mapped[int] = mapped_column(Integer, server_default="0", default=0)


# One account per mailbox: Bob@x.com and bob@x.com are one address to every mail provider (migration 0006).
Index("uq_users_email_lower", func.lower(UserRow.email), unique=True)


class LoginCounterRow(Base):
    """Failed-login counter of one scope: an account, a client address, or the pair of both."""

    __tablename__ = "login_counters"

    # "<scope>:<sha256 of the value>": hashed so that typed-in usernames (sometimes passwords) are not stored
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxRow(Base):
    """Work for another service that must happen even if that service is down now (retried until done)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class EmailVerificationRow(Base):
    """A single-use email verification token, stored as its SHA-256 only (a database leak reveals no token)."""

    __tablename__ = "email_verifications"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    email: Mapped[str] = mapped_column(String(320))  # the address it proves; void once the email changes
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ImportedUserRow(Base):
    """The import ledger: a monolith user that this system imported, and the user it became (its own id, or the
    one it was merged into). A second run leaves these alone, whatever happened to the users since."""

    __tablename__ = "imported_users"

    monolith_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RefreshFamilyRow(Base):
    """A session: the refresh tokens that descend from one login by rotation. Revoking it ends them all."""

    __tablename__ = "refresh_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, also the access tokens' `sid`
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the absolute lifetime
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RefreshTokenRow(Base):
    """A refresh token, stored as its SHA-256 only: a database leak reveals no token that works."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the idle lifetime runs from here
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PasswordResetRow(Base):
    """A single-use password reset token, stored as its SHA-256 only."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    token_version: Mapped[int] = mapped_column(Integer)  # void once the password changed since
    email: Mapped[str] = mapped_column(String(320))  # the address it was mailed to: void once the email changed
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
