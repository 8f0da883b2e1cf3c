"""The import's composition root: each service's own adoption use case over that service's own database, found
through the same settings the services read (AUTH_DATABASE_URL, COLLECTION_DATABASE_URL)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_service.adapters.db import MIGRATIONS as AUTH_MIGRATIONS
from auth_service.adapters.db.adoption import SqlUserAdoption
from auth_service.app.adoption import UserAdoption
from auth_service.ports import UserAdoptionStore
from auth_service.settings import Settings as AuthSettings
from collection_service.adapters.db import MIGRATIONS as COLLECTION_MIGRATIONS
from collection_service.adapters.db.adoption import SqlCigarAdoption
from collection_service.app.adoption import CigarAdoption
from collection_service.ports import CigarAdoptionStore
from collection_service.settings import Settings as CollectionSettings
from service_kit.db.check import DatabaseNotReady, check_database
from service_kit.db.engine import create_engine, session_factory
from service_kit.db.revisions import head_revision

POOL = 2  # the import writes one batch at a time per service


class TargetError(Exception):
    """A service's database cannot take the import; the message names the setting."""


@dataclass
class Targets:
    users: UserAdoption
    cigars: CigarAdoption
    allow_unverified_login: bool
    engines: tuple[AsyncEngine, AsyncEngine]

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _settings() -> tuple[AuthSettings, CollectionSettings]:
    try:
        return AuthSettings(), CollectionSettings()
    except ValidationError as exc:
        raise TargetError(f"invalid settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None


async def open_targets() -> Targets:
    """Both databases, checked reachable and migrated to the schema this code writes (the ledgers included)."""
    auth, collection = _settings()
    for setting, url, migrations in (
        ("AUTH_DATABASE_URL", auth.database_url, AUTH_MIGRATIONS),
        ("COLLECTION_DATABASE_URL", collection.database_url, COLLECTION_MIGRATIONS),
    ):
        try:
            await check_database(url, head=head_revision(migrations / "versions"))
        except DatabaseNotReady as exc:
            raise TargetError(f"{setting}: {exc}") from None
    auth_engine = create_engine(auth.database_url, POOL)
    collection_engine = create_engine(collection.database_url, POOL)
    auth_sessions, collection_sessions = session_factory(auth_engine), session_factory(collection_engine)

    def user_store() -> UserAdoptionStore:
        return SqlUserAdoption(auth_sessions)

    def cigar_store() -> CigarAdoptionStore:
        return SqlCigarAdoption(collection_sessions)

    return Targets(
        UserAdoption(user_store), CigarAdoption(cigar_store), auth.allow_unverified_login,
        (auth_engine, collection_engine),
    )  # fmt: skip
