"""Sessions kept by refresh tokens, over small fakes and an injected clock: rotation, reuse, lifetimes, revocation,
logging out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auth_service.adapters.keys import create_key_file
from auth_service.adapters.tokens import JwtIssuer
from auth_service.app.authentication import Authenticator
from auth_service.app.logout import Logout
from auth_service.app.outbox import REVOKE_TOKENS, OutboxDrainer
from auth_service.app.sessions import SessionPolicy, Sessions, token_hash
from auth_service.domain import InvalidGrant, InvalidToken, NewUser
from service_kit.tokens import JwtVerifier, StaticKeySet
from tests.unit.fakes import FakeAuthUow, FakeCollectionAccounts, FakeCounters, FakeOutbox, FakeRefreshTokens, FakeUsers

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = SessionPolicy(idle=timedelta(days=1), absolute=timedelta(days=3))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.users = FakeUsers()
        self.refresh = FakeRefreshTokens()
        self.outbox = FakeOutbox()
        counters = FakeCounters()

        def uow() -> FakeAuthUow:
            return FakeAuthUow(self.users, counters, self.outbox, self.refresh)

        key = create_key_file(tmp_path / "k.pem")
        self.issuer = JwtIssuer(key, "i", "a", timedelta(minutes=10), self.clock)
        self.verifier = JwtVerifier(StaticKeySet({key.kid: key.public_key}), "i", "a", self.clock)
        self.sessions = Sessions(uow, self.issuer, self.clock, POLICY)
        self.collection = FakeCollectionAccounts()
        drainer = OutboxDrainer(uow, self.collection, self.clock, poll_seconds=1, max_backoff_seconds=1)
        self.logout = Logout(uow, Authenticator(self.verifier, self.users), self.sessions, drainer, self.clock)


@pytest.fixture
async def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    await w.users.add(NewUser("alice", "alice@example.com", "hash"))
    return w


async def test_a_refresh_answers_a_new_access_token_and_a_new_refresh_token_of_the_same_session(world: World) -> None:
    alice = await world.users.get(1)
    first = await world.sessions.start(alice)
    world.clock.now += timedelta(minutes=5)
    second = await world.sessions.refresh(first.refresh_token)
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token and second.expires_in == 600
    old, new = await world.verifier.verify(first.access_token), await world.verifier.verify(second.access_token)
    assert new.user_id == 1 and new.session == old.session != ""
    assert token_hash(second.refresh_token) in world.refresh.tokens
    assert second.refresh_token not in str(world.refresh.tokens)  # only hashes are stored


async def test_a_refresh_token_used_twice_ends_its_whole_session(world: World) -> None:
    first = await world.sessions.start(await world.users.get(1))
    second = await world.sessions.refresh(first.refresh_token)
    with pytest.raises(InvalidGrant, match="used before"):
        await world.sessions.refresh(first.refresh_token)  # the thief (or the owner) replays it
    with pytest.raises(InvalidGrant):
        await world.sessions.refresh(second.refresh_token)  # the other holder's newer token is dead too
    other = await world.sessions.start(await world.users.get(1))
    assert (await world.sessions.refresh(other.refresh_token)).refresh_token  # another session lives on


async def test_a_session_ends_after_its_idle_time_and_after_its_absolute_lifetime(world: World) -> None:
    alice = await world.users.get(1)
    idle = await world.sessions.start(alice)
    world.clock.now += POLICY.idle
    with pytest.raises(InvalidGrant, match="expired"):
        await world.sessions.refresh(idle.refresh_token)
    world.clock.now = NOW
    token = (await world.sessions.start(alice)).refresh_token
    for _ in range(3):  # active, never idle for long: still ends at the absolute lifetime
        world.clock.now += POLICY.idle - timedelta(minutes=1)
        token = (await world.sessions.refresh(token)).refresh_token
    world.clock.now = NOW + POLICY.absolute
    with pytest.raises(InvalidGrant, match="expired"):
        await world.sessions.refresh(token)


async def test_revoking_ends_the_session_and_unknown_tokens_are_accepted_silently(world: World) -> None:
    issued = await world.sessions.start(await world.users.get(1))
    await world.sessions.revoke("not a token we issued")
    await world.sessions.revoke(issued.access_token)  # an access token: nothing to revoke, no error
    assert (await world.sessions.refresh(issued.refresh_token)).refresh_token
    latest = await world.sessions.start(await world.users.get(1))
    await world.sessions.revoke(latest.refresh_token)
    await world.sessions.revoke(latest.refresh_token)  # twice: still fine
    with pytest.raises(InvalidGrant):
        await world.sessions.refresh(latest.refresh_token)


async def test_unknown_and_deleted_users_refresh_tokens_are_refused(world: World) -> None:
    with pytest.raises(InvalidGrant):
        await world.sessions.refresh("x" * 43)
    issued = await world.sessions.start(await world.users.get(1))
    await world.users.delete(1, NOW)
    with pytest.raises(InvalidGrant):
        await world.sessions.refresh(issued.refresh_token)


async def test_logout_ends_the_current_session_only(world: World) -> None:
    alice = await world.users.get(1)
    phone, laptop = await world.sessions.start(alice), await world.sessions.start(alice)
    await world.logout.logout(phone.access_token)
    with pytest.raises(InvalidGrant):
        await world.sessions.refresh(phone.refresh_token)
    assert (await world.sessions.refresh(laptop.refresh_token)).refresh_token


async def test_logout_everywhere_ends_every_session_and_revokes_every_access_token(world: World) -> None:
    alice = await world.users.get(1)
    phone, laptop = await world.sessions.start(alice), await world.sessions.start(alice)
    await world.logout.logout_all(laptop.access_token)
    auth = Authenticator(world.verifier, world.users)
    for session in (phone, laptop):
        with pytest.raises(InvalidGrant):
            await world.sessions.refresh(session.refresh_token)
        with pytest.raises(InvalidToken, match="revoked"):
            await auth.current_user(session.access_token)
    assert world.collection.revoked == [(1, 1)]  # collection_service was told: versions below 1 are refused
    assert not [i for i in world.outbox.items if i.kind == REVOKE_TOKENS]  # delivered, so gone
    fresh = await world.sessions.start(await world.users.get(1))
    assert (await auth.current_user(fresh.access_token)).id == 1
