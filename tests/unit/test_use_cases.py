"""auth_service's use cases over small fakes: no database, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auth_service.adapters.keys import create_key_file
from auth_service.adapters.passwords import PasslibHasher
from auth_service.adapters.tokens import JwtIssuer
from auth_service.app.authentication import Authenticator
from auth_service.app.outbox import MAIL_VERIFICATION
from auth_service.app.password_check import PasswordCheck
from auth_service.app.password_grant import PasswordGrant
from auth_service.app.profile import Profiles
from auth_service.app.registration import Registration
from auth_service.app.sessions import SessionPolicy, Sessions
from auth_service.app.throttle import Throttle, ThrottlePolicy
from auth_service.domain import Cigar as AuthCigar
from auth_service.domain import (
    EmailTaken,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    TooManyAttempts,
    UnsupportedGrantType,
    UsernameTaken,
    WrongPassword,
)
from service_kit.tokens import JwtVerifier, StaticKeySet
from tests.unit.fakes import (
    FakeAuthUow,
    FakeCollectionAccounts,
    FakeCounters,
    FakeDirectory,
    FakeMailer,
    FakeOutbox,
    FakeUsers,
    ManualDrainer,
)

NOW = datetime(2026, 11, 26, tzinfo=UTC)
SESSIONS = SessionPolicy(idle=timedelta(days=1), absolute=timedelta(days=2))


class Auth:
    """auth_service's use cases side by side, as the servicer sees them."""

    def __init__(self, registration: Registration, grant: PasswordGrant, profiles: Profiles) -> None:
        self.register_user = registration.register
        self.get_me = profiles.get_me
        self.update_me = profiles.update_me
        self.change_password = profiles.change_password
        self.delete_me = profiles.delete_me
        self._grant = grant

    async def issue_token(self, grant_type: str, username: str, password: str, address: str = "203.0.113.7"):
        return await self._grant.issue_token(grant_type, username, password, address)


@pytest.fixture
def auth(tmp_path: Path):
    key = create_key_file(tmp_path / "k.pem")
    users = FakeUsers()
    counters = FakeCounters()
    directory = FakeDirectory()
    hasher = PasslibHasher(workers=1)
    mailer = FakeMailer()
    collection = FakeCollectionAccounts()
    outbox = FakeOutbox()
    uow = lambda: FakeAuthUow(users, counters, outbox)  # noqa: E731
    issuer = JwtIssuer(key, "cigar-auth", "cigar-api", timedelta(minutes=30), lambda: NOW)
    authenticator = Authenticator(
        JwtVerifier(StaticKeySet({key.kid: key.public_key}), "cigar-auth", "cigar-api", lambda: NOW), users
    )
    drainer = ManualDrainer(uow, collection, clock=lambda: NOW, poll_seconds=1, max_backoff_seconds=1)
    drainer.add_mailer(MAIL_VERIFICATION, mailer)

    async def no_delay(seconds: float) -> None:  # the throttle's delays, without waiting them out
        pass

    passwords = PasswordCheck(uow, hasher, Throttle(ThrottlePolicy()), lambda: NOW, sleep=no_delay)
    profiles = Profiles(uow, authenticator, passwords, hasher, directory, drainer, lambda: NOW)
    grant = PasswordGrant(passwords, Sessions(uow, issuer, lambda: NOW, SESSIONS))
    auth = Auth(Registration(uow, hasher, drainer, lambda: NOW), grant, profiles)
    auth.collection = collection  # type: ignore[attr-defined]
    auth.mailer, auth.drainer = mailer, drainer  # type: ignore[attr-defined]
    yield auth, users, directory
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
    profile = await service.get_me(token)
    assert profile.user.id == user.id
    assert profile.cigars == [cigar]
    assert directory.calls == [token]


async def test_profile_of_a_deleted_user_is_an_invalid_token(auth) -> None:
    service, users, _ = auth
    await service.register_user("alice", "alice@example.com", "correct horse")
    token = (await service.issue_token("", "alice", "correct horse")).access_token
    users.rows.clear()
    with pytest.raises(InvalidToken):
        await service.get_me(token)


async def test_update_me_answers_the_changed_user_with_their_cigars_in_one_use_case(auth) -> None:
    service, users, directory = auth
    user = await service.register_user("alice", "alice@example.com", "correct horse")
    token = (await service.issue_token("", "alice", "correct horse")).access_token
    cigar = AuthCigar(id=3, name="n", brand="b", origin="", flavor_notes="", rating=4, owner_id=user.id)
    directory.by_token[token] = [cigar]
    profile = await service.update_me(token, "Alice@Example.org", "correct horse", "203.0.113.7")
    assert (profile.user.email, profile.user.email_verified, profile.cigars) == ("Alice@example.org", False, [cigar])
    assert users.rows[user.id].email == "Alice@example.org"
    unchanged = await service.update_me(token, None, "", "203.0.113.7")
    assert unchanged.user.email == "Alice@example.org" and unchanged.cigars == [cigar]


async def test_a_password_change_revokes_every_older_token_here_and_tells_collection_service(auth) -> None:
    service, users, _ = auth
    user = await service.register_user("alice", "alice@example.com", "correct horse")
    old = (await service.issue_token("", "alice", "correct horse")).access_token
    await service.change_password(old, "correct horse", "a new passphrase", "203.0.113.7")
    assert users.rows[user.id].token_version == 1
    assert service.collection.revoked == [(user.id, 1)]  # through the outbox, drained before the answer
    with pytest.raises(InvalidToken, match="revoked"):
        await service.get_me(old)
    new = (await service.issue_token("", "alice", "a new passphrase")).access_token
    assert (await service.get_me(new)).user.id == user.id


async def test_sensitive_changes_need_the_current_password_and_count_its_failures_like_logins(auth) -> None:
    service, users, _ = auth
    user = await service.register_user("alice", "alice@example.com", "correct horse")
    token = (await service.issue_token("", "alice", "correct horse")).access_token
    with pytest.raises(InvalidInput, match="current_password"):
        await service.update_me(token, "new@example.com", "", "203.0.113.7")
    with pytest.raises(InvalidInput, match="current_password"):
        await service.delete_me(token, "", "203.0.113.7")
    for _ in range(5):  # a stolen token guessing the password
        with pytest.raises(WrongPassword):
            await service.change_password(token, "guess", "a new passphrase", "198.51.100.66")
    with pytest.raises(TooManyAttempts):  # locked from there, even with the right one
        await service.delete_me(token, "correct horse", "198.51.100.66")
    assert users.rows[user.id].email == "alice@example.com" and users.rows[user.id].token_version == 0


async def test_registration_owes_a_verification_mail_through_the_outbox_not_inside_the_request(auth) -> None:
    service, _, _ = auth
    user = await service.register_user("alice", "alice@example.com", "correct horse")
    assert service.mailer.sent == [] and service.drainer.kicks == 1  # owed, and the drainer kicked
    assert await service.drainer.drain_once() == 1
    assert service.mailer.sent == [user.id]
    assert await service.drainer.drain_once() == 0  # sent once
