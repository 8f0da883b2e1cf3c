"""The outbox drainer's retries and email verification tokens, with an injected clock and small fakes."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from auth_service.app.outbox import DELETE_CIGARS, MAIL_VERIFICATION, OutboxDrainer
from auth_service.app.verification import EmailVerification
from auth_service.domain import (
    DependencyUnavailable,
    OutboxItem,
    User,
    VerificationRecord,
    VerificationTokenInvalid,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Store:
    """One shared in-memory store; every unit of work sees it (commit is a no-op here)."""

    def __init__(self) -> None:
        self.items: dict[int, tuple[OutboxItem, datetime]] = {}
        self.verifications: dict[str, VerificationRecord] = {}
        self.users: dict[int, User] = {1: User(1, "alice", "alice@example.com", "h")}

    # outbox
    async def add(self, kind: str, user_id: int, now: datetime) -> None:
        item_id = len(self.items) + 1
        self.items[item_id] = (OutboxItem(item_id, kind, user_id, 0), now)

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        found = [item for item, at in self.items.values() if at <= now][:limit]
        await asyncio.sleep(0)  # as a database read would: concurrent drainers may read the same items
        return found

    async def claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        item, at = self.items[item_id]
        if at > now:
            return False
        self.items[item_id] = (item, until)
        return True

    async def done(self, item_id: int) -> None:
        del self.items[item_id]

    async def retry_later(self, item_id: int, next_attempt_at: datetime, error: str) -> None:
        item, _ = self.items[item_id]
        self.items[item_id] = (dataclasses.replace(item, attempts=item.attempts + 1), next_attempt_at)


class Uow:
    def __init__(self, store: Store) -> None:
        self.outbox = store
        self.users = self
        self.verifications = self
        self._store = store

    async def __aenter__(self) -> Uow:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    async def commit(self) -> None:
        pass

    # users
    async def get(self, user_id_or_hash):  # users.get(int) and verifications.get(str) share this fake
        if isinstance(user_id_or_hash, int):
            return self._store.users.get(user_id_or_hash)
        return self._store.verifications.get(user_id_or_hash)

    async def set_email_verified(self, user_id: int) -> None:
        self._store.users[user_id] = dataclasses.replace(self._store.users[user_id], email_verified=True)

    # verifications
    async def add(self, token_hash: str, user_id: int, email: str, expires_at: datetime) -> None:
        self._store.verifications[token_hash] = VerificationRecord(user_id, email, expires_at, None)

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        found = self._store.verifications[token_hash]
        if found.used_at is not None:
            return False
        self._store.verifications[token_hash] = dataclasses.replace(found, used_at=now)
        return True


class FlakyCollection:
    def __init__(self) -> None:
        self.up = False
        self.deleted: list[int] = []

    async def delete_cigars(self, user_id: int) -> int:
        if not self.up:
            raise DependencyUnavailable("the cigar collection")
        self.deleted.append(user_id)
        return 2


class FlakyMailer:
    def __init__(self) -> None:
        self.up = False
        self.sent: list[int] = []

    async def __call__(self, user_id: int) -> str:
        if not self.up:
            raise OSError("connection refused")  # what smtplib raises when the server is down
        await asyncio.sleep(0)
        self.sent.append(user_id)
        return "sent"


async def test_a_mail_is_retried_until_the_server_takes_it_and_two_drainers_send_it_once() -> None:
    store, clock, mailer = Store(), Clock(), FlakyMailer()
    drainer = OutboxDrainer(lambda: Uow(store), FlakyCollection(), clock, poll_seconds=1, max_backoff_seconds=4)
    drainer.add_mailer(MAIL_VERIFICATION, mailer)
    await store.add(MAIL_VERIFICATION, 1, clock.now)
    assert await drainer.drain_once() == 0 and mailer.sent == []
    ((item, at),) = store.items.values()
    assert item.attempts == 1 and at > clock.now  # kept, for later
    mailer.up = True
    clock.now = at
    # two drainers (replicas) read the same due item: the claim lets one of them send it
    assert sorted(await asyncio.gather(drainer.drain_once(), drainer.drain_once())) == [0, 1]
    assert mailer.sent == [1] and store.items == {}


async def test_a_deletion_is_retried_with_growing_back_off_until_collection_service_is_back() -> None:
    store, clock, collection = Store(), Clock(), FlakyCollection()
    drainer = OutboxDrainer(lambda: Uow(store), collection, clock, poll_seconds=1, max_backoff_seconds=4)
    await store.add(DELETE_CIGARS, 7, NOW)
    waits = []
    for _ in range(4):
        assert await drainer.drain_once() == 0
        ((item, at),) = store.items.values()
        waits.append((at - clock.now).total_seconds())
        clock.now = at
    assert waits == [1, 2, 4, 4]  # doubling, capped
    assert await drainer.drain_once() == 0 and collection.deleted == []
    collection.up = True
    clock.now += timedelta(seconds=4)
    assert await drainer.drain_once() == 1
    assert collection.deleted == [7] and store.items == {}


class Inbox:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.bodies.append(body)

    def token(self) -> str:
        return next(
            line.strip() for line in self.bodies[-1].splitlines() if len(line.strip()) >= 40 and " " not in line
        )


@pytest.fixture
def verification():
    store, clock, inbox = Store(), Clock(), Inbox()
    verifier = EmailVerification(
        lambda: Uow(store), inbox, clock, timedelta(hours=24), "https://x/verify?token={token}"
    )
    return verifier, store, clock, inbox


async def test_a_verification_token_works_once_and_is_stored_only_as_a_hash(verification) -> None:
    verifier, store, _, inbox = verification
    assert await verifier.mail(1) == "verification mail sent"
    token = inbox.token()
    assert f"https://x/verify?token={token}" in inbox.bodies[-1]
    assert token not in store.verifications
    assert (await verifier.verify(token)).email_verified
    with pytest.raises(VerificationTokenInvalid):
        await verifier.verify(token)


async def test_a_verification_token_expires(verification) -> None:
    verifier, store, clock, inbox = verification
    await verifier.mail(1)
    clock.now += timedelta(hours=24)
    with pytest.raises(VerificationTokenInvalid):
        await verifier.verify(inbox.token())
    assert not store.users[1].email_verified
