"""Tables of collection_service (the schema itself comes from the alembic history in migrations/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, MetaData, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.db.session import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CigarRow(Base):
    __tablename__ = "cigars"
    # Each filter column is indexed together with id, so "WHERE brand = ? AND id > ? ORDER BY id
    # LIMIT n" (keyset paging) walks one index range in order: no sort, no deep scan. See 0002.
    __table_args__ = (
        Index("ix_cigars_owner_id_id", "owner_id", "id"),
        Index("ix_cigars_brand_id", "brand", "id"),
        Index("ix_cigars_origin_id", "origin", "id"),
        # SQLite: never hand out the id of a deleted cigar again (migration 0004); PostgreSQL's sequence never does.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    brand: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(100))
    flavor_notes: Mapped[str] = mapped_column(Text)
    rating: Mapped[int] = mapped_column(Integer)
    # The user id from auth_service's tokens. No foreign key: users live in another service's database.
    owner_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeletedUserRow(Base):
    """A user deleted in auth_service: their cigars are gone and their tokens are refused here."""

    __tablename__ = "deleted_users"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TokenRevocationRow(Base):
    """A revocation of a user's access tokens below a version (their password changed). Append-only, so that
    every process reads the new ones after the last it has seen (adapters/db/revocations.py)."""

    __tablename__ = "token_revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    min_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ImportedCigarRow(Base):
    """The import ledger: a monolith cigar that this system imported (with its id). A second run leaves these
    alone, whatever happened to the cigars since: one its owner deleted is not brought back."""

    __tablename__ = "imported_cigars"

    cigar_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
