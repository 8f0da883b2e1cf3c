"""The SMTP sender against a real SMTP server started here (aiosmtpd) with a self-signed certificate: the
verification email arrives, with its token, over TLS (STARTTLS or implicit), after a login whose password
came from a file; and nothing is sent to a server whose certificate we do not trust."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auth_service.server import email_sender
from auth_service.server import start as start_auth
from auth_service.settings import Settings
from tests.conftest import free_port, migrate

USERNAME, PASSWORD = "mailer", "s3cret smtp password"
# aiosmtpd counts only STARTTLS as TLS for auth_require_tls, and warns when it is off (the implicit TLS server)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass
class Received:
    envelope: Envelope
    over_tls: bool
    logged_in: bool


@dataclass
class Inbox:
    """aiosmtpd's handler: keeps every message with how it came."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        # STARTTLS sets session.ssl; a connection that was TLS from the start shows it on its transport
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.messages.append(Received(envelope, tls, bool(session.authenticated)))
        return "250 OK"


def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USERNAME.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), also the only CA the sender is told to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test smtp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.fixture(params=["starttls", "implicit"])
def smtp_server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[tuple[str, int, Inbox]]:
    """A real SMTP server on 127.0.0.1 that only takes mail after TLS and a login."""
    inbox, port, context = Inbox(), free_port(), server_context(certificate)
    common: dict[str, Any] = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": True}
    if request.param == "starttls":
        controller = Controller(inbox, "127.0.0.1", port, tls_context=context, require_starttls=True, **common)
    else:  # aiosmtpd counts only STARTTLS for auth_require_tls; this connection is TLS from its first byte
        common["auth_require_tls"] = False
        controller = Controller(inbox, "127.0.0.1", port, ssl_context=context, server_hostname="127.0.0.1", **common)
    controller.start()
    try:
        yield request.param, port, inbox
    finally:
        controller.stop()


def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "smtp_password"
    path.write_text(PASSWORD + "\n")  # as `echo` writes it: the newline is not part of the password
    return path


@pytest.fixture
async def auth_with_smtp(
    smtp_server: tuple[str, int, Inbox], certificate: tuple[Path, Path], tmp_path: Path, key_file: Path
) -> AsyncIterator[tuple[auth_pb2_grpc.AuthServiceStub, Inbox]]:
    tls, port, inbox = smtp_server
    url = f"sqlite+aiosqlite:///{tmp_path}/auth.db"
    await migrate("auth", url)
    settings = Settings(
        port=free_port(), database_url=url, private_key_file=key_file, environment="production",
        email_sender="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_tls=tls, smtp_ca_file=certificate[0],
        smtp_username=USERNAME, smtp_password_file=password_file(tmp_path),
    )  # fmt: skip
    server = await start_auth(settings)  # no sender given: the one the settings describe
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    yield auth_pb2_grpc.AuthServiceStub(channel), inbox
    await channel.close()
    await server.stop(grace=1)


async def test_the_verification_email_arrives_over_tls_with_its_token(
    auth_with_smtp: tuple[auth_pb2_grpc.AuthServiceStub, Inbox],
) -> None:
    auth, inbox = auth_with_smtp
    name = f"mail_{uuid.uuid4().hex[:8]}"
    await auth.CreateUser(
        auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com", password="a good one!")
    )
    for _ in range(100):  # the outbox sends it just after the answer
        if inbox.messages:
            break
        await asyncio.sleep(0.05)
    [received] = inbox.messages
    assert received.over_tls and received.logged_in
    assert received.envelope.rcpt_tos == [f"{name}@example.com"]
    body = received.envelope.content.decode() if isinstance(received.envelope.content, bytes) else ""
    token = re.search(r"^([A-Za-z0-9_-]{40,})\r?$", body, re.MULTILINE)
    assert token, body
    user = await auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=token.group(1)))
    assert user.username == name and user.email_verified


async def test_nothing_is_sent_to_a_server_whose_certificate_is_not_trusted(
    smtp_server: tuple[str, int, Inbox], tmp_path: Path
) -> None:
    tls, port, inbox = smtp_server
    settings = Settings(
        port=0, database_url="sqlite+aiosqlite:///unused.db", email_sender="smtp", smtp_host="127.0.0.1",
        smtp_port=port, smtp_tls=tls, smtp_username=USERNAME, smtp_password_file=password_file(tmp_path),
    )  # fmt: skip
    with pytest.raises(ssl.SSLCertVerificationError):
        await email_sender(settings).send("someone@example.com", "subject", "a token")
    await asyncio.sleep(0)
    assert inbox.messages == []
