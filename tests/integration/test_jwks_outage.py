"""collection_service without auth_service: public reads go on, keys arrive once it is back, a burst of
unknown kids costs auth_service at most one key fetch. Real gRPC servers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2 as pb
from cigar.collection.v1 import collection_pb2_grpc

from auth_service.adapters.keys import SigningKey, create_key_file, load_signing_key
from auth_service.adapters.tokens import JwtIssuer
from auth_service.server import start as start_auth
from auth_service.settings import Settings as AuthSettings
from collection_service.server import RunningServer
from collection_service.server import start as start_collection
from collection_service.settings import Settings as CollectionSettings
from tests.conftest import BACKENDS, Databases, database_url, eventually, migrate
from tests.integration.conftest import bearer


def token_signed_with(key: SigningKey | Path) -> str:
    key = load_signing_key(key) if isinstance(key, Path) else key
    issuer = JwtIssuer(key, "cigar-auth", "cigar-api", timedelta(minutes=5), lambda: datetime.now(UTC))
    return issuer.issue(1, 0).access_token


async def create(stub: collection_pb2_grpc.CollectionServiceStub, token: str) -> pb.Cigar:
    return await stub.CreateCigar(
        pb.CreateCigarRequest(name="n", brand="b", rating=3), metadata=bearer(token), timeout=5
    )


@dataclass
class Alone:
    running: RunningServer
    auth_port: int
    reservation: socket.socket

    def free_auth_port(self) -> int:
        """Release the port just before something is started on it."""
        self.reservation.close()
        return self.auth_port


@pytest.fixture(params=BACKENDS)
async def collection_alone(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: Databases
) -> AsyncIterator[Alone]:
    """collection_service pointed at an auth_service port where nothing listens (yet). The port stays
    bound, not listening, until the test starts a server there: connections are refused, and no other
    process can take it meanwhile (gRPC servers bind with SO_REUSEPORT and would share a free one)."""
    url = await database_url(request.param, "collection", tmp_path, pg_databases)
    await migrate("collection", url)
    reservation = socket.socket()
    reservation.bind(("127.0.0.1", 0))
    auth_port = reservation.getsockname()[1]
    running = await start_collection(
        CollectionSettings(port=0, database_url=url, auth_service_addr=f"127.0.0.1:{auth_port}")
    )
    yield Alone(running, auth_port, reservation)
    reservation.close()
    await running.stop(grace=0)


async def test_public_reads_work_while_auth_service_is_down_and_keys_arrive_once_it_is_back(
    collection_alone: Alone, key_file: Path, tmp_path: Path
) -> None:
    running = collection_alone.running
    token = token_signed_with(key_file)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub = collection_pb2_grpc.CollectionServiceStub(channel)
        assert list((await stub.ListCigars(pb.ListCigarsRequest(), timeout=5)).cigars) == []
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await create(stub, token)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # "retry later", not "your token is bad"

        await asyncio.sleep(3)  # a longer outage: the channel to auth_service is in reconnect backoff
        auth_settings = AuthSettings(
            port=collection_alone.free_auth_port(),
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
            private_key_file=key_file,
            collection_service_addr=f"127.0.0.1:{running.port}",
        )
        await migrate("auth", auth_settings.database_url)
        auth = await start_auth(auth_settings)
        try:
            deadline, created = time.monotonic() + 15, None
            while created is None and time.monotonic() < deadline:
                try:
                    created = await create(stub, token)
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
                    await asyncio.sleep(0.5)
            assert created is not None and created.owner_id == 1
        finally:
            await auth.stop(grace=0)

        # auth_service gone again: the keys it published stay known, writes go on.
        assert (await create(stub, token)).owner_id == 1


class CountingAuth(auth_pb2_grpc.AuthServiceServicer):
    """Publishes one key and counts how often, and how concurrently, it is asked for it."""

    def __init__(self, jwk: dict[str, str]) -> None:
        self.jwks = auth_pb2.GetJwksResponse(keys=[auth_pb2.Jwk(**jwk)])
        self.calls = self.in_flight = self.max_in_flight = 0

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GetJwksResponse:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.05)
        self.in_flight -= 1
        return self.jwks


async def test_a_burst_of_unknown_kids_costs_auth_service_at_most_one_fetch(
    collection_alone: Alone, key_file: Path, tmp_path: Path
) -> None:
    running = collection_alone.running
    counting = CountingAuth(load_signing_key(key_file).jwk())
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(counting, server)
    server.add_insecure_port(f"127.0.0.1:{collection_alone.free_auth_port()}")
    await server.start()
    try:
        await eventually(running.jwks.refresh, within=10, interval=0.2)  # as at start-up
        before = counting.calls
        strangers = [token_signed_with(create_key_file(tmp_path / f"k{i}.pem")) for i in range(100)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = collection_pb2_grpc.CollectionServiceStub(channel)
            results = await asyncio.gather(*(create(stub, t) for t in strangers), return_exceptions=True)
            assert {r.code() for r in results if isinstance(r, grpc.aio.AioRpcError)} == {
                grpc.StatusCode.UNAUTHENTICATED
            }
            assert all(isinstance(r, grpc.aio.AioRpcError) for r in results)
            assert (await create(stub, token_signed_with(key_file))).owner_id == 1
        assert counting.calls - before <= 1  # jwks_min_refresh_seconds (5 s) spans the whole burst
        assert counting.max_in_flight == 1
    finally:
        await server.stop(grace=0)
