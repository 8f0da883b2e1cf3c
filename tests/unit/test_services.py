"""The service layers of both services over small fakes: no database, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auth_service.domain import (
    Cigar as AuthCigar,
)
from auth_service.domain import (
    EmailTaken,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    UnsupportedGrantType,
    UsernameTaken,
)
from auth_service.keys import create_key_file
from auth_service.login import TokenService
from auth_service.passwords import PasswordHasher
from auth_service.services import AuthService
from auth_service.throttle import Throttle, ThrottlePolicy
from auth_service.tokens import TokenIssuer, TokenVerifier
from collection_service.domain import CigarFields
from collection_service.domain import InvalidInput as CollectionInvalidInput
from collection_service.domain import InvalidToken as CollectionInvalidToken
from collection_service.services import CollectionService
from tests.unit.fakes import (
    FakeAuthenticator,
    FakeAuthUow,
    FakeCigars,
    FakeCounters,
    FakeDirectory,
    FakeUsers,
    FakeVerification,
)

NOW = datetime(2026, 11, 26, tzinfo=UTC)


class Auth:
    """AuthService and TokenService side by side, as the servicer sees them."""

    def __init__(self, service: AuthService, tokens: TokenService) -> None:
        self.register_user = service.register_user
        self.get_profile = service.get_profile
        self._tokens = tokens

    async def issue_token(self, grant_type: str, username: str, password: str, address: str = "203.0.113.7"):
        return await self._tokens.issue_token(grant_type, username, password, address)


@pytest.fixture
def auth(tmp_path: Path):
    key = create_key_file(tmp_path / "k.pem")
    users = FakeUsers()
    counters = FakeCounters()
    directory = FakeDirectory()
    hasher = PasswordHasher(workers=1)
    uow = lambda: FakeAuthUow(users, counters)  # noqa: E731
    issuer = TokenIssuer(key, "cigar-auth", "cigar-api", timedelta(minutes=30), lambda: NOW)
    service = AuthService(
        uow=uow,
        users=users,
        hasher=hasher,
        verifier=TokenVerifier({key.kid: key.public_key}, "cigar-auth", "cigar-api", lambda: NOW),
        cigars=directory,
        verification=FakeVerification(),
    )
    tokens = TokenService(uow, hasher, issuer, Throttle(ThrottlePolicy()), lambda: NOW)
    yield Auth(service, tokens), users, directory
    hasher.close()


async def test_register_stores_a_hash_never_the_password(auth) -> None:
    service, users, _ = auth
    user = await service.register_user("alice", "alice@example.com", "correct horse")
    stored = users.rows[user.id]
    assert stored.hashed_password.startswith("$argon2id$")
    assert "correct horse" not in stored.hashed_password


async def test_register_refuses_duplicates_by_username_case_insensitively_and_by_email(auth) -> None:
    service, _, _ = auth
    await service.register_user("alice", "alice@example.com", "correct horse")
    with pytest.raises(UsernameTaken):
        await service.register_user("ALICE", "other@example.com", "correct horse")
    with pytest.raises(EmailTaken):
        await service.register_user("bob", "alice@example.com", "correct horse")


async def test_issue_token_accepts_empty_or_password_grant_and_nothing_else(auth) -> None:
    service, _, _ = auth
    await service.register_user("alice", "alice@example.com", "correct horse")
    assert (await service.issue_token("", "alice", "correct horse")).token_type == "bearer"
    assert (await service.issue_token("password", "alice", "correct horse")).expires_in == 1800
    with pytest.raises(UnsupportedGrantType):
        await service.issue_token("client_credentials", "alice", "correct horse")


async def test_issue_token_needs_username_and_password(auth) -> None:
    service, _, _ = auth
    with pytest.raises(InvalidInput) as exc:
        await service.issue_token("", "", "")
    assert {v.field for v in exc.value.violations} == {"username", "password"}


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong horse"), ("nobody", "correct horse")])
async def test_bad_credentials_raise_the_same_error_whoever_is_asked(auth, username: str, password: str) -> None:
    service, _, _ = auth
    await service.register_user("alice", "alice@example.com", "correct horse")
    with pytest.raises(InvalidCredentials) as exc:
        await service.issue_token("", username, password)
    assert str(exc.value) == "incorrect username or password"


async def test_profile_joins_the_user_with_the_cigars_listed_for_their_token(auth) -> None:
    service, _, directory = auth
    user = await service.register_user("alice", "alice@example.com", "correct horse")
    token = (await service.issue_token("", "alice", "correct horse")).access_token
    cigar = AuthCigar(id=7, name="n", brand="b", origin="", flavor_notes="", rating=5, owner_id=user.id)
    directory.by_token[token] = [cigar]
    profile = await service.get_profile(f"Bearer {token}")
    assert profile.user.id == user.id
    assert profile.cigars == [cigar]
    assert directory.calls == [token]


async def test_profile_of_a_deleted_user_is_an_invalid_token(auth) -> None:
    service, users, _ = auth
    await service.register_user("alice", "alice@example.com", "correct horse")
    token = (await service.issue_token("", "alice", "correct horse")).access_token
    users.rows.clear()
    with pytest.raises(InvalidToken):
        await service.get_profile(f"Bearer {token}")


@pytest.fixture
def collection():
    store = FakeCigars()
    return CollectionService(cigars=store, auth=FakeAuthenticator()), store


def fields(**overrides: object) -> CigarFields:
    return CigarFields(**{"name": "n", "brand": "b", "origin": "", "flavor_notes": "", "rating": 3, **overrides})


async def test_create_cigar_belongs_to_the_token_owner(collection) -> None:
    service, store = collection
    cigar = await service.create_cigar("Bearer user-5", fields())
    assert cigar.owner_id == 5
    assert store.rows == [cigar]


async def test_create_cigar_checks_the_token_before_the_input(collection) -> None:
    service, store = collection
    with pytest.raises(CollectionInvalidToken):
        await service.create_cigar(None, fields(rating=99))
    with pytest.raises(CollectionInvalidInput):
        await service.create_cigar("Bearer user-1", fields(rating=99))
    assert store.rows == []


async def test_list_my_cigars_filters_by_owner(collection) -> None:
    service, _ = collection
    await service.create_cigar("Bearer user-1", fields(name="a"))
    await service.create_cigar("Bearer user-2", fields(name="b"))
    assert [c.name for c in await service.list_my_cigars("Bearer user-2")] == ["b"]
