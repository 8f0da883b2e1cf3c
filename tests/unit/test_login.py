"""The password grant's defences over fakes: throttling with an injected clock, rehashing, common passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import pytest

from auth_service.adapters.keys import create_key_file
from auth_service.adapters.passwords import PasslibHasher
from auth_service.adapters.tokens import JwtIssuer
from auth_service.api.peer import GatewaySecretError, client_address, peer_ip, read_gateway_secret
from auth_service.app.password_check import PasswordCheck
from auth_service.app.password_grant import PasswordGrant
from auth_service.app.rules import check_registration, common_passwords
from auth_service.app.sessions import SessionPolicy, Sessions
from auth_service.app.throttle import Throttle, ThrottlePolicy
from auth_service.domain import EmailNotVerified, InvalidCredentials, InvalidInput, NewUser, TooManyAttempts
from tests.unit.fakes import FakeAuthUow, FakeCounters, FakeUsers

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    delay_after=2, delay_step_seconds=1, max_delay_seconds=2, pair_lock_after=4, account_lock_after=6,
    address_lock_after=8, base_wait_seconds=60, max_wait_seconds=300, failure_reset_seconds=3600,
)  # fmt: skip
OWNER, ATTACKER = "198.51.100.1", "203.0.113.9"
POLICY_SESSIONS = SessionPolicy(idle=timedelta(days=1), absolute=timedelta(days=2))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Login:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.users = FakeUsers()
        self.sleeps: list[float] = []
        self.hasher = PasslibHasher(workers=1)
        issuer = JwtIssuer(create_key_file(tmp_path / "k.pem"), "i", "a", timedelta(minutes=30), self.clock)
        counters = FakeCounters()

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.passwords = PasswordCheck(
            lambda: FakeAuthUow(self.users, counters), self.hasher, Throttle(POLICY), self.clock, sleep
        )
        self.sessions = Sessions(lambda: FakeAuthUow(self.users, counters), issuer, self.clock, POLICY_SESSIONS)
        self.service = PasswordGrant(self.passwords, self.sessions)

    async def add_user(self, name: str, hashed: str) -> None:
        await self.users.add(NewUser(name, f"{name}@example.com", hashed))

    async def attempt(self, name: str, password: str, address: str) -> str:
        """ "ok", "bad" or "locked <seconds>"."""
        try:
            await self.service.issue_token("password", name, password, address)
        except InvalidCredentials:
            return "bad"
        except TooManyAttempts as exc:
            return f"locked {exc.retry_after}"
        return "ok"


@pytest.fixture
async def login(tmp_path: Path):
    it = Login(tmp_path)
    await it.add_user("alice", await it.hasher.hash("correct horse"))
    yield it
    it.hasher.close()


async def test_failures_are_delayed_then_refused_with_a_growing_wait_that_resets(login: Login) -> None:
    results = [await login.attempt("alice", "wrong", ATTACKER) for _ in range(5)]
    assert results == ["bad", "bad", "bad", "bad", "locked 60"]
    assert login.sleeps == [1, 2]  # after 2 failures: 1 s, then 2 s (the cap)
    login.clock.now += timedelta(seconds=59)
    assert await login.attempt("alice", "correct horse", ATTACKER) == "locked 1"
    login.clock.now += timedelta(seconds=1)
    assert await login.attempt("alice", "wrong", ATTACKER) == "bad"
    assert await login.attempt("alice", "wrong", ATTACKER) == "locked 120"  # doubled
    login.clock.now += timedelta(seconds=120)
    assert await login.attempt("alice", "correct horse", ATTACKER) == "ok"  # success resets the pair
    assert await login.attempt("alice", "wrong", ATTACKER) == "bad"
    assert await login.attempt("alice", "wrong", ATTACKER) == "bad"


async def test_the_wait_is_capped(login: Login) -> None:
    for _ in range(12):
        await login.attempt("alice", "wrong", ATTACKER)
        login.clock.now += timedelta(seconds=301)
    assert await login.attempt("alice", "wrong", ATTACKER) == "bad"
    assert await login.attempt("alice", "wrong", ATTACKER) == "locked 300"


async def test_counters_older_than_the_reset_period_are_forgotten(login: Login) -> None:
    for _ in range(4):
        await login.attempt("alice", "wrong", ATTACKER)
    login.clock.now += timedelta(seconds=3600)
    assert await login.attempt("alice", "wrong", ATTACKER) == "bad"
    assert await login.attempt("alice", "wrong", ATTACKER) == "bad"


async def test_the_owner_still_logs_in_from_their_address_while_an_attacker_hammers_the_account(login: Login) -> None:
    assert await login.attempt("alice", "correct horse", OWNER) == "ok"
    for i in range(40):  # from many addresses, so that no pair or address counter locks first
        await login.attempt("alice", "wrong", f"203.0.113.{i}")
    assert (await login.attempt("alice", "correct horse", "192.0.2.55")).startswith("locked")
    assert await login.attempt("alice", "correct horse", OWNER) == "ok"


async def test_an_unknown_account_is_throttled_exactly_like_a_known_one(login: Login) -> None:
    known = [await login.attempt("alice", "wrong", ATTACKER) for _ in range(5)]
    unknown = [await login.attempt("nobody", "wrong", ATTACKER) for _ in range(5)]
    assert known == unknown


async def test_one_address_trying_many_accounts_is_refused(login: Login) -> None:
    results = [await login.attempt(f"user{i}", "wrong", ATTACKER) for i in range(9)]
    assert results[:8] == ["bad"] * 8 and results[8].startswith("locked")
    assert await login.attempt("alice", "correct horse", OWNER) == "ok"


async def test_a_bcrypt_hash_is_replaced_by_argon2id_at_the_next_successful_login(login: Login) -> None:
    await login.add_user("seed", bcrypt.hashpw(b"testpassword", bcrypt.gensalt(rounds=4)).decode())
    assert await login.attempt("seed", "wrong", OWNER) == "bad"
    assert (await login.users.get_by_username("seed")).hashed_password.startswith("$2b$")
    assert await login.attempt("seed", "testpassword", OWNER) == "ok"
    rehashed = (await login.users.get_by_username("seed")).hashed_password
    assert rehashed.startswith("$argon2id$")
    assert await login.attempt("seed", "testpassword", OWNER) == "ok"
    assert (await login.users.get_by_username("seed")).hashed_password == rehashed  # no rehash when current


async def test_unverified_users_may_log_in_unless_the_setting_forbids_it(login: Login) -> None:
    assert await login.attempt("alice", "correct horse", OWNER) == "ok"
    strict = PasswordGrant(login.passwords, login.sessions, allow_unverified=False)
    with pytest.raises(EmailNotVerified):
        await strict.issue_token("password", "alice", "correct horse", OWNER)
    with pytest.raises(InvalidCredentials):  # a wrong password still says nothing about verification
        await strict.issue_token("password", "alice", "wrong", OWNER)
    await login.users.set_email_verified(1)
    assert (await strict.issue_token("password", "alice", "correct horse", OWNER)).access_token


@pytest.mark.parametrize("password", ["password", "12345678", "Password1", "qwertyuiop", "ILOVEYOU"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_registration("alice", "alice@example.com", password)
    assert [v.field for v in exc.value.violations] == ["password"]
    assert "common" in exc.value.violations[0].description


def test_the_common_password_list_holds_a_few_thousand_entries() -> None:
    assert 4000 <= len(common_passwords()) <= 20000
    assert "testpassword" not in common_passwords()  # the seed README's own example stays usable


def test_the_client_address_is_believed_only_with_the_gateway_secret() -> None:
    secret = "s" * 40
    assert client_address("ipv4:10.0.0.8:5000", secret, "198.51.100.1", secret) == "198.51.100.1"
    assert client_address("ipv4:10.0.0.8:5000", "s" * 39, "198.51.100.1", secret) == "10.0.0.8"  # wrong secret
    assert client_address("ipv4:10.0.0.8:5000", None, "198.51.100.1", secret) == "10.0.0.8"  # no secret sent
    assert client_address("ipv4:10.0.0.8:5000", secret, "198.51.100.1", None) == "10.0.0.8"  # none configured
    assert client_address("ipv4:10.0.0.8:5000", secret, "not an address", secret) == "10.0.0.8"
    assert client_address("ipv6:[::1]:5000", secret, "2001:db8::1", secret) == "2001:db8::1"
    assert peer_ip("ipv6:[::1]:5000") == "::1"


@pytest.mark.parametrize("content", ["", "short", "x" * 31, "has spaces " * 4])
def test_a_gateway_secret_file_that_holds_no_secret_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "gateway.secret"
    path.write_text(content)
    with pytest.raises(GatewaySecretError, match=str(path)):
        read_gateway_secret(path)
    assert read_gateway_secret(None) is None
