"""Sessions as frontends keep them, through Envoy on SQLite and PostgreSQL, driven by the OAuth2 client libraries
that frontends and scripts use (authlib's OAuth2Session, requests-oauthlib's LegacyApplicationClient): login,
automatic refresh after expiry, revocation, reuse detection, logout everywhere, password reset and verification
resend, with the mails received by a real SMTP server (aiosmtpd) started here."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient
from requests_oauthlib import OAuth2Session as RequestsOAuthSession

from scripts.run_postgres import NAMES, postgres_urls
from scripts.stack import StackConfig, running
from tests.conftest import BACKENDS, MANY_REGISTRATIONS, PG_ADMIN_URL, Databases, database_url, free_port

PASSWORD, NEW = "testpassword", "a brand new passphrase"
CLIENT_ID = "cigar-frontend"  # any: a public client, accepted and ignored
REVOCATION_BOUND = 2.0  # COLLECTION_REVOCATION_REFRESH_SECONDS: other collection processes catch up within this
_addresses = count(20)


@dataclass
class Inbox:
    """aiosmtpd's handler: every message received, as (recipient, plain-text body)."""

    messages: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        body = message_from_bytes(envelope.content).get_payload(decode=True)  # type: ignore[arg-type]
        for to in envelope.rcpt_tos:
            self.messages.append((to, body.decode()))  # type: ignore[union-attr]
        return "250 OK"

    def to(self, email: str, kind: str) -> list[str]:
        return [body for to, body in self.messages if to == email and kind in body]

    def wait_for(self, email: str, kind: str, n: int = 1) -> list[str]:
        """The bodies once there are `n` (mail is sent by the outbox, just after the answer)."""
        for _ in range(200):
            if len(found := self.to(email, kind)) >= n:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{n} mail(s) {kind!r} to {email} expected, got {len(self.to(email, kind))}")


RESET, VERIFY = "set a new password", "confirm your email address"


def token_in(body: str) -> str:
    return re.search(r"^\s*([A-Za-z0-9_-]{40,})\s*$", body, re.MULTILINE).group(1)  # type: ignore[union-attr]


@dataclass
class SessionStack:
    backend: str
    url: str
    inbox: Inbox


@asynccontextmanager
async def session_stack(
    backend: str, var: Path, pg: Databases, inbox: Inbox, env: dict[str, str]
) -> AsyncIterator[SessionStack]:
    if backend == "postgres":
        names = {setting: f"cigar_e2e_{uuid.uuid4().hex[:10]}" for setting in NAMES}
        pg.created.extend(names.values())
        urls = await postgres_urls(PG_ADMIN_URL, names)
    else:
        urls = {setting: await database_url(backend, setting.split("_")[0].lower(), var, pg) for setting in NAMES}
    controller = Controller(inbox, "127.0.0.1", free_port())
    controller.start()
    config = StackConfig.on_free_ports(
        var, auth_database_url=urls["AUTH_DATABASE_URL"], collection_database_url=urls["COLLECTION_DATABASE_URL"]
    )
    config.extra_env = {
        **MANY_REGISTRATIONS,
        "AUTH_PUBLIC_URL": f"http://127.0.0.1:{config.gateway_port}",
        "AUTH_EMAIL_SENDER": "smtp", "AUTH_SMTP_HOST": "127.0.0.1", "AUTH_SMTP_PORT": str(controller.port),
        "AUTH_SMTP_TLS": "none", "COLLECTION_WORKERS": "2",
        "COLLECTION_REVOCATION_REFRESH_SECONDS": str(REVOCATION_BOUND),
        **env,
    }  # fmt: skip
    try:
        with running(config, var / "stack.log") as stack:
            yield SessionStack(backend, stack.base_url, inbox)
    finally:
        controller.stop()


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[SessionStack]:
    """Access tokens of the default lifetime (10 minutes): what ends a session here is revocation, not expiry."""
    var = tmp_path_factory.mktemp(f"sessions-{request.param}")
    async with session_stack(request.param, var, pg_databases, Inbox(), {}) as running:
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
async def short_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases
) -> AsyncIterator[SessionStack]:
    """Access tokens that live 2 seconds: the libraries must refresh on their own."""
    var = tmp_path_factory.mktemp(f"short-sessions-{request.param}")
    env = {"AUTH_ACCESS_TOKEN_EXPIRE_SECONDS": "2"}
    async with session_stack(request.param, var, pg_databases, Inbox(), env) as running:
        yield running


def register(url: str) -> tuple[str, str]:
    name = f"s_{uuid.uuid4().hex[:8]}"
    email = f"{name}@example.com"
    reply = httpx.post(f"{url}/users/", json={"username": name, "email": email, "password": PASSWORD}, timeout=10)
    assert reply.status_code == 201, reply.text
    return name, email


def authlib_login(url: str, name: str, password: str = PASSWORD) -> AuthlibSession:
    # leeway=0: refresh when the token has expired, not a minute before (authlib's default), to show that it does
    client = AuthlibSession(client_id=CLIENT_ID, token_endpoint=f"{url}/token", token_endpoint_auth_method="none",
                            leeway=0)  # fmt: skip
    client.fetch_token(f"{url}/token", username=name, password=password, grant_type="password")
    return client


def requests_oauthlib_login(url: str, name: str, password: str = PASSWORD) -> RequestsOAuthSession:
    updates: list[dict[str, Any]] = []
    client = RequestsOAuthSession(
        client=LegacyApplicationClient(client_id=CLIENT_ID), auto_refresh_url=f"{url}/token",
        auto_refresh_kwargs={"client_id": CLIENT_ID}, token_updater=updates.append,
    )  # fmt: skip
    client.fetch_token(token_url=f"{url}/token", username=name, password=password, include_client_id=True)
    client.updates = updates  # type: ignore[attr-defined]
    return client


def new_cigar(session: Any, url: str) -> int:
    """A call to collection_service with the session's access token: 201, or 401 once it is refused."""
    reply = session.post(f"{url}/cigars/", json={"name": "Robusto", "brand": "Padrón", "rating": 4})
    return int(reply.status_code)


def refused_within(session: Any, url: str, bound: float) -> float:
    """Seconds until collection_service refuses the session's access token (it must within `bound`)."""
    started = time.monotonic()
    while new_cigar(session, url) != 401:
        assert time.monotonic() - started < bound + 1.0, "collection_service still accepts a revoked token"
        time.sleep(0.05)
    took = time.monotonic() - started
    print(f"collection_service refused a revoked access token {took:.2f} s after the answer")  # docs/security.md
    return took


def refresh_fails(session: Any, url: str) -> str:
    """The error a refresh of this session's refresh token gets at the token endpoint."""
    reply = httpx.post(
        f"{url}/token", data={"grant_type": "refresh_token", "refresh_token": session.token["refresh_token"]}
    )
    assert reply.status_code == 400
    return str(reply.json()["error"])


@pytest.fixture(autouse=True)
def plain_http_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib refuses http:// unless told: the stack here has no TLS (production's gateway is behind it)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def client_address() -> Iterator[httpx.HTTPTransport]:
    """A client address of its own (127.0.0.x) for the per-address limits."""
    with httpx.HTTPTransport(local_address=f"127.0.0.{next(_addresses)}") as transport:
        yield transport


def test_both_libraries_log_in_and_refresh_on_their_own_after_expiry(short_stack: SessionStack) -> None:
    url = short_stack.url
    name, _ = register(url)
    for session in (authlib_login(url, name), requests_oauthlib_login(url, name)):
        first = dict(session.token)
        assert first["expires_in"] == 2 and first["refresh_token"]
        assert session.get(f"{url}/users/me/").status_code == 200
        time.sleep(2.5)  # the access token has expired
        me = session.get(f"{url}/users/me/")
        assert me.status_code == 200 and me.json()["username"] == name
        assert session.token["access_token"] != first["access_token"]
        assert session.token["refresh_token"] != first["refresh_token"]  # rotated
        assert new_cigar(session, url) == 201  # collection_service takes the refreshed token too


def test_a_revoked_session_is_refused_at_its_next_refresh(short_stack: SessionStack) -> None:
    url = short_stack.url
    name, _ = register(url)
    authlib_client = authlib_login(url, name)
    authlib_client.revoke_token(f"{url}/revoke", token=authlib_client.token["refresh_token"],
                                token_type_hint="refresh_token")  # fmt: skip
    time.sleep(2.5)
    with pytest.raises(OAuthError) as err:
        authlib_client.get(f"{url}/users/me/")
    assert err.value.error == "invalid_grant" and err.value.description  # error_description reaches the library

    legacy = requests_oauthlib_login(url, name)
    reply = httpx.post(f"{url}/revoke", data={"token": legacy.token["refresh_token"]})
    assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
    time.sleep(2.5)
    with pytest.raises(InvalidGrantError) as refused:
        legacy.get(f"{url}/users/me/")
    assert refused.value.description


def test_revoking_an_unknown_token_is_200_and_without_a_token_is_400(short_stack: SessionStack) -> None:
    assert httpx.post(f"{short_stack.url}/revoke", data={"token": "never-issued"}).status_code == 200
    missing = httpx.post(f"{short_stack.url}/revoke", data={"token_type_hint": "refresh_token"})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_a_reused_refresh_token_ends_the_session_for_both_holders(stack: SessionStack) -> None:
    url = stack.url
    name, _ = register(url)
    owner = requests_oauthlib_login(url, name)
    stolen = owner.token["refresh_token"]
    owner.refresh_token(f"{url}/token", client_id=CLIENT_ID)  # the owner rotates
    thief = httpx.post(f"{url}/token", data={"grant_type": "refresh_token", "refresh_token": stolen})
    assert thief.status_code == 400 and thief.json()["error"] == "invalid_grant"
    assert "used before" in thief.json()["error_description"]
    with pytest.raises(InvalidGrantError):  # the owner's newer token is dead too
        owner.refresh_token(f"{url}/token", client_id=CLIENT_ID)


def test_logout_ends_this_session_and_logout_all_every_session_in_both_services(stack: SessionStack) -> None:
    url = stack.url
    name, _ = register(url)
    phone, laptop, tablet = authlib_login(url, name), requests_oauthlib_login(url, name), authlib_login(url, name)
    assert phone.post(f"{url}/users/me/logout").status_code == 204
    assert refresh_fails(phone, url) == "invalid_grant"
    assert new_cigar(laptop, url) == 201 and new_cigar(tablet, url) == 201
    assert laptop.post(f"{url}/users/me/logout-all").status_code == 204
    for session in (laptop, tablet):
        assert refresh_fails(session, url) == "invalid_grant"
        assert session.get(f"{url}/users/me/").status_code == 401
        refused_within(session, url, REVOCATION_BOUND)


def test_a_password_reset_by_mail_works_once_and_ends_every_session(
    stack: SessionStack, client_address: httpx.HTTPTransport
) -> None:
    url = stack.url
    name, email = register(url)
    other = requests_oauthlib_login(url, name)
    assert new_cigar(other, url) == 201
    with httpx.Client(base_url=url, transport=client_address) as client:
        assert client.post("/users/password-reset", json={"email": email.upper()}).status_code == 202
    [body] = stack.inbox.wait_for(email, RESET)
    token = token_in(body)
    confirm = {"token": token, "new_password": NEW}
    assert httpx.post(f"{url}/users/password-reset/confirm", json=confirm).status_code == 204
    again = httpx.post(f"{url}/users/password-reset/confirm", json=confirm)
    assert again.status_code == 400 and again.json()["error"] == "invalid_reset_token"
    assert refresh_fails(other, url) == "invalid_grant"
    refused_within(other, url, REVOCATION_BOUND)
    old = httpx.post(f"{url}/token", data={"username": name, "password": PASSWORD})
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    assert authlib_login(url, name, NEW).get(f"{url}/users/me/").status_code == 200


def test_a_reset_request_never_tells_who_has_an_account_and_is_throttled(
    stack: SessionStack, client_address: httpx.HTTPTransport
) -> None:
    url = stack.url
    _, email = register(url)
    unknown = f"nobody_{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=url, transport=client_address) as client:
        answers = [client.post("/users/password-reset", json={"email": e}) for e in (email, unknown)]
        assert [(a.status_code, a.content) for a in answers] == [(202, answers[0].content)] * 2
        for _ in range(3):  # the account's limit: 3 mails per window, the first one included
            assert client.post("/users/password-reset", json={"email": email}).status_code == 202
        stack.inbox.wait_for(email, RESET, 3)
        for _ in range(5):  # the address's limit: 10 requests per window
            assert client.post("/users/password-reset", json={"email": unknown}).status_code == 202
        refused = client.post("/users/password-reset", json={"email": email})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.json()["error"] == "too_many_requests"
    time.sleep(0.5)
    assert len(stack.inbox.to(email, RESET)) == 3 and stack.inbox.to(unknown, RESET) == []


def test_a_verification_resend_is_mailed_works_once_and_is_throttled(stack: SessionStack) -> None:
    url = stack.url
    name, email = register(url)
    stack.inbox.wait_for(email, VERIFY)  # the registration's
    session = authlib_login(url, name)
    for _ in range(3):
        assert session.post(f"{url}/users/me/verify/resend").status_code == 202
    bodies = stack.inbox.wait_for(email, VERIFY, 4)
    throttled = session.post(f"{url}/users/me/verify/resend")
    assert throttled.status_code == 429 and throttled.json()["error"] == "too_many_requests"
    token = token_in(bodies[-1])
    assert httpx.post(f"{url}/users/verify", json={"token": token}).json()["email_verified"] is True
    assert httpx.post(f"{url}/users/verify", json={"token": token}).status_code == 400
    done = session.post(f"{url}/users/me/verify/resend")
    assert done.status_code == 400 and done.json()["error"] == "email_already_verified"


def test_the_metadata_document_leads_a_client_to_working_endpoints(stack: SessionStack) -> None:
    doc = httpx.get(f"{stack.url}/.well-known/oauth-authorization-server").json()
    assert doc["issuer"] == stack.url
    assert doc["grant_types_supported"] == ["password", "refresh_token"]
    assert doc["token_endpoint_auth_methods_supported"] == ["none"]
    assert httpx.get(doc["jwks_uri"]).json()["keys"]
    name, _ = register(stack.url)
    token = httpx.post(doc["token_endpoint"], data={"username": name, "password": PASSWORD}).json()
    assert httpx.post(doc["revocation_endpoint"], data={"token": token["refresh_token"]}).status_code == 200
    wrong = httpx.post(doc["token_endpoint"], data={"username": name, "password": "not the password"})
    assert wrong.json()["error_description"] == wrong.json()["detail"] == "incorrect username or password"
