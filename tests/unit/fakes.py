"""Small hand-written fakes of the ports the service layers depend on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from auth_service.app.outbox import OutboxDrainer
from auth_service.domain import Cigar as AuthCigar
from auth_service.domain import EmailTaken, LoginCounter, NewUser, OutboxItem, RefreshRecord, User, UsernameTaken
from collection_service.domain import Cigar, CigarFields, CigarFilter
from service_kit.tokens import TokenRejected


class FakeUsers:
    def __init__(self) -> None:
        self.rows: dict[int, User] = {}

    async def get(self, user_id: int) -> User | None:
        return self.rows.get(user_id)

    async def get_by_username(self, username: str) -> User | None:
        return next((u for u in self.rows.values() if u.username.casefold() == username.casefold()), None)

    async def email_exists(self, email: str, other_than: int | None = None) -> bool:
        return any(u.email.lower() == email.lower() and u.id != other_than for u in self.rows.values())

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        self.rows[user_id] = dataclasses.replace(self.rows[user_id], hashed_password=hashed_password)

    async def change_password(self, user_id: int, hashed_password: str) -> int:
        user = self.rows[user_id]
        self.rows[user_id] = dataclasses.replace(
            user, hashed_password=hashed_password, token_version=user.token_version + 1
        )
        return user.token_version + 1

    async def raise_token_version(self, user_id: int) -> int:
        user = self.rows[user_id]
        self.rows[user_id] = dataclasses.replace(user, token_version=user.token_version + 1)
        return user.token_version + 1

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.rows.values() if u.email.lower() == email.lower()), None)

    async def delete(self, user_id: int, now: datetime) -> None:
        self.rows.pop(user_id, None)

    async def update_email(self, user_id: int, email: str) -> None:
        self.rows[user_id] = dataclasses.replace(self.rows[user_id], email=email, email_verified=False)

    async def set_email_verified(self, user_id: int) -> None:
        self.rows[user_id] = dataclasses.replace(self.rows[user_id], email_verified=True)

    async def add(self, new: NewUser) -> User:
        if await self.get_by_username(new.username):
            raise UsernameTaken()
        if await self.email_exists(new.email):
            raise EmailTaken()
        user = User(id=len(self.rows) + 1, username=new.username, email=new.email, hashed_password=new.hashed_password)
        self.rows[user.id] = user
        return user


class FakeCounters:
    def __init__(self) -> None:
        self.rows: dict[str, LoginCounter] = {}

    async def get(self, keys: Iterable[str]) -> dict[str, LoginCounter]:
        return {k: self.rows[k] for k in keys if k in self.rows}

    async def record_failure(self, keys: Iterable[str], now: datetime, reset_before: datetime) -> None:
        for key in keys:
            old = self.rows.get(key) or LoginCounter(key, 0, None, None)
            stale = old.last_failure_at is None or old.last_failure_at <= reset_before
            self.rows[key] = dataclasses.replace(old, failures=1 if stale else old.failures + 1, last_failure_at=now)

    async def lock(self, keys: Iterable[str]) -> dict[str, LoginCounter]:
        return await self.get(keys)  # one event loop, no awaits in between: nothing runs concurrently here

    async def record_success(self, reset: Iterable[str], refund: Iterable[str], known: str, now: datetime) -> None:
        for key in reset:
            if key in self.rows:
                self.rows[key] = dataclasses.replace(self.rows[key], failures=0)
        for key in refund:
            if key in self.rows:
                self.rows[key] = dataclasses.replace(self.rows[key], failures=max(0, self.rows[key].failures - 1))
        old = self.rows.get(known) or LoginCounter(known, 0, None, None)
        self.rows[known] = dataclasses.replace(old, last_success_at=now)


class FakeOutbox:
    def __init__(self) -> None:
        self.items: list[OutboxItem] = []

    async def add(self, kind: str, user_id: int, now: datetime) -> None:
        self.items.append(OutboxItem(len(self.items) + 1, kind, user_id, 0))

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        return self.items[:limit]

    async def claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        return any(i.id == item_id for i in self.items)

    async def done(self, item_id: int) -> None:
        self.items = [i for i in self.items if i.id != item_id]


class FakeRefreshTokens:
    """Families: id -> (user id, expires at, revoked at); tokens: hash -> (family id, created at, used at)."""

    def __init__(self) -> None:
        self.families: dict[str, tuple[int, datetime, datetime | None]] = {}
        self.tokens: dict[str, tuple[str, datetime, datetime | None]] = {}

    def copy_from(self, other: FakeRefreshTokens) -> None:
        self.families = dict(other.families)
        self.tokens = dict(other.tokens)

    async def start_family(self, family_id: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        self.families[family_id] = (user_id, expires_at, None)

    async def add(self, token_hash: str, family_id: str, now: datetime) -> None:
        self.tokens[token_hash] = (family_id, now, None)

    async def get(self, token_hash: str) -> RefreshRecord | None:
        if token_hash not in self.tokens:
            return None
        family_id, created_at, used_at = self.tokens[token_hash]
        user_id, expires_at, revoked_at = self.families[family_id]
        return RefreshRecord(family_id, user_id, created_at, used_at, expires_at, revoked_at)

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        family_id, created_at, used_at = self.tokens[token_hash]
        if used_at is not None:
            return False
        self.tokens[token_hash] = (family_id, created_at, now)
        return True

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        user_id, expires_at, revoked_at = self.families[family_id]
        self.families[family_id] = (user_id, expires_at, revoked_at or now)

    async def revoke_user(self, user_id: int, now: datetime) -> None:
        for family_id, (owner, _, _) in list(self.families.items()):
            if owner == user_id:
                await self.revoke_family(family_id, now)


class FakeAuthUow:
    """Shares one store across units of work; staged writes land only on commit."""

    def __init__(
        self,
        users: FakeUsers,
        counters: FakeCounters | None = None,
        outbox: FakeOutbox | None = None,
        refresh_tokens: FakeRefreshTokens | None = None,
    ) -> None:
        self._committed = users
        self._committed_counters = counters or FakeCounters()
        self._committed_outbox = outbox or FakeOutbox()
        self._committed_refresh = refresh_tokens or FakeRefreshTokens()
        self.commits = 0

    async def __aenter__(self) -> FakeAuthUow:
        self.users = FakeUsers()
        self.users.rows = dict(self._committed.rows)
        self.counters = FakeCounters()
        self.counters.rows = dict(self._committed_counters.rows)
        self.outbox = FakeOutbox()
        self.outbox.items = list(self._committed_outbox.items)
        self.refresh_tokens = FakeRefreshTokens()
        self.refresh_tokens.copy_from(self._committed_refresh)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    async def commit(self) -> None:
        self._committed.rows = dict(self.users.rows)
        self._committed_counters.rows = dict(self.counters.rows)
        self._committed_outbox.items = list(self.outbox.items)
        self._committed_refresh.copy_from(self.refresh_tokens)
        self.commits += 1


class FakeCollectionAccounts:
    """What collection_service was told about accounts."""

    def __init__(self) -> None:
        self.deleted: list[int] = []
        self.revoked: list[tuple[int, int]] = []

    async def delete_cigars(self, user_id: int) -> int:
        self.deleted.append(user_id)
        return 0

    async def revoke_tokens(self, user_id: int, min_version: int) -> None:
        self.revoked.append((user_id, min_version))


class FakeDirectory:
    def __init__(self, cigars: dict[str, list[AuthCigar]] | None = None) -> None:
        self.by_token = cigars or {}
        self.calls: list[str] = []

    async def list_mine(self, token: str) -> list[AuthCigar]:
        self.calls.append(token)
        return self.by_token.get(token, [])


class FakeCigars:
    def __init__(self) -> None:
        self.rows: list[Cigar] = []
        self.deleted_owners: set[int] = set()

    async def find(self, f: CigarFilter, after_id: int, skip: int, limit: int) -> list[Cigar]:
        def keep(c: Cigar) -> bool:
            return (
                c.id > after_id
                and (not f.owner_id or c.owner_id == f.owner_id)
                and (not f.brand or c.brand == f.brand)
                and (not f.origin or c.origin == f.origin)
                and c.rating >= f.min_rating
                and f.q.casefold() in c.name.casefold()
            )

        return sorted(filter(keep, self.rows), key=lambda c: c.id)[skip : skip + limit]

    async def get(self, cigar_id: int) -> Cigar | None:
        return next((c for c in self.rows if c.id == cigar_id), None)

    async def update_owned(self, cigar_id: int, owner_id: int, changes: dict[str, str | int]) -> Cigar | None:
        for i, c in enumerate(self.rows):
            if c.id == cigar_id and c.owner_id == owner_id:
                self.rows[i] = c._replace(**changes)
                return self.rows[i]
        return None

    async def delete_owned(self, cigar_id: int, owner_id: int) -> bool:
        kept = [c for c in self.rows if not (c.id == cigar_id and c.owner_id == owner_id)]
        deleted, self.rows = len(kept) < len(self.rows), kept
        return deleted

    async def list_by_owner(self, owner_id: int) -> list[Cigar]:
        return [c for c in self.rows if c.owner_id == owner_id]

    async def page_by_owner(self, owner_id: int, after_id: int, limit: int) -> list[Cigar]:
        self.pages_read = getattr(self, "pages_read", 0) + 1
        return sorted((c for c in self.rows if c.owner_id == owner_id and c.id > after_id), key=lambda c: c.id)[:limit]

    async def owner_deleted(self, owner_id: int) -> bool:
        return owner_id in self.deleted_owners

    async def add(self, owner_id: int, fields: CigarFields) -> Cigar | None:
        if owner_id in self.deleted_owners:
            return None
        cigar = Cigar(
            id=max((c.id for c in self.rows), default=0) + 1,
            name=fields.name,
            brand=fields.brand,
            origin=fields.origin,
            flavor_notes=fields.flavor_notes,
            rating=fields.rating,
            owner_id=owner_id,
        )
        self.rows.append(cigar)
        return cigar


class FakeOwnImport:
    """A unit of work over FakeCigars: the added cigars land in the store only on commit."""

    def __init__(self, store: FakeCigars) -> None:
        self._store = store
        self.staged: list[Cigar] = []

    async def __aenter__(self) -> FakeOwnImport:
        self.staged = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.staged = []

    async def commit(self) -> None:
        self._store.rows += self.staged

    async def owner_deleted(self, owner_id: int) -> bool:
        return owner_id in self._store.deleted_owners

    async def add_all(self, owner_id: int, cigars: list[CigarFields]) -> list[int]:
        first = max((c.id for c in self._store.rows), default=0) + 1
        self.staged = [Cigar(first + i, *dataclasses.astuple(f), owner_id=owner_id) for i, f in enumerate(cigars)]
        return [c.id for c in self.staged]


class FakeTokens:
    """Tokens are "user-<id>"; anything else is rejected."""

    async def user_id(self, token: str) -> int:
        if token.startswith("user-"):
            return int(token.removeprefix("user-"))
        raise TokenRejected()


class FakeMailer:
    """An outbox mailer (app/outbox.py's Mailer): which users it was asked to mail."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def __call__(self, user_id: int) -> str:
        self.sent.append(user_id)
        return "mailed"


class ManualDrainer(OutboxDrainer):
    """Drains only when told (drain_once): `soon` counts the kicks instead of starting a background task, so a
    unit test decides when the outbox runs."""

    kicks = 0

    def soon(self) -> None:
        self.kicks += 1
