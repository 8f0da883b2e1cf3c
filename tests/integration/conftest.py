"""Both services' real gRPC servers in this process on free ports, over SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc

from auth_service.server import start as start_auth
from auth_service.settings import Settings as AuthSettings
from collection_service.server import start as start_collection
from collection_service.settings import Settings as CollectionSettings
from tests.conftest import BACKENDS, Databases, database_url, free_port, migrate

GATEWAY_SECRET = "integration-gateway-secret-0123456789abcdef"


def as_gateway(client_address: str) -> tuple[tuple[str, str], ...]:
    """The metadata with which the gateway (Envoy) vouches for a REST client's address."""
    return (("x-cigar-client-address", client_address), ("x-cigar-gateway-secret", GATEWAY_SECRET))


@dataclass
class Services:
    backend: str
    auth_port: int
    collection_port: int
    auth: auth_pb2_grpc.AuthServiceStub
    collection: collection_pb2_grpc.CollectionServiceStub
    auth_db_url: str
    collection_db_url: str
    mail: MailBox

    async def verification_token(self, email: str, count: int = 1) -> str:
        """The token of the newest verification email sent to `email`, once `count` have been (the outbox sends
        them just after the answer)."""
        for _ in range(100):
            bodies = [body for to, body in self.mail.sent if to == email and "confirm your email" in body]
            if len(bodies) >= count:
                return re.search(r"^\s*([A-Za-z0-9_-]{40,})\s*$", bodies[-1], re.MULTILINE).group(1)  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no verification email to {email}")

    async def register(self, name: str, password: str = "correct horse battery") -> auth_pb2.User:
        return await self.auth.CreateUser(
            auth_pb2.CreateUserRequest(username=name, email=f"{name}@example.com", password=password)
        )

    async def login(self, name: str, password: str = "correct horse battery") -> str:
        reply = await self.auth.Token(auth_pb2.TokenRequest(grant_type="password", username=name, password=password))
        return reply.access_token

    async def create_cigar(self, token: str, **fields: object) -> collection_pb2.Cigar:
        request = collection_pb2.CreateCigarRequest(**{"name": "Robusto", "brand": "Padrón", "rating": 4, **fields})
        return await self.collection.CreateCigar(request, metadata=bearer(token))


class MailBox:
    """An EmailSender that keeps what it is given (auth_service/mailer.py has the real ones)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, body))


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def code_of(call: Awaitable[object]) -> grpc.StatusCode:
    """The status a call ends with: OK, or the code of the error it raised."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


@pytest.fixture(scope="session", params=BACKENDS)
async def services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_databases: Databases, key_file: Path
) -> AsyncIterator[Services]:
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"integration-{backend}")
    auth_url = await database_url(backend, "auth", tmp, pg_databases)
    collection_url = await database_url(backend, "collection", tmp, pg_databases)
    await migrate("auth", auth_url)
    await migrate("collection", collection_url)
    auth_port, collection_port = free_port(), free_port()
    mail = MailBox()
    secret_file = tmp / "gateway.secret"
    secret_file.write_text(GATEWAY_SECRET)
    auth = await start_auth(
        AuthSettings(
            port=auth_port,
            database_url=auth_url,
            private_key_file=key_file,
            collection_service_addr=f"127.0.0.1:{collection_port}",
            gateway_secret_file=secret_file,
        ),
        sender=mail,
    )
    collection = await start_collection(
        CollectionSettings(
            port=collection_port, database_url=collection_url, auth_service_addr=f"127.0.0.1:{auth_port}"
        )
    )
    auth_channel = grpc.aio.insecure_channel(f"127.0.0.1:{auth.port}")
    collection_channel = grpc.aio.insecure_channel(f"127.0.0.1:{collection.port}")
    yield Services(
        backend=backend,
        auth_port=auth.port,
        collection_port=collection.port,
        auth=auth_pb2_grpc.AuthServiceStub(auth_channel),
        collection=collection_pb2_grpc.CollectionServiceStub(collection_channel),
        auth_db_url=auth_url,
        collection_db_url=collection_url,
        mail=mail,
    )
    await auth_channel.close()
    await collection_channel.close()
    await collection.stop(grace=1)
    await auth.stop(grace=1)
