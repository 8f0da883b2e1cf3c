"""A password change revokes older tokens in collection_service too: in the process told, at once; in its other
processes and replicas (one database), within COLLECTION_REVOCATION_REFRESH_SECONDS; and it holds while
auth_service is down. Real gRPC servers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from cigar.collection.v1 import collection_pb2 as pb
from cigar.collection.v1 import collection_pb2_grpc

from auth_service.server import start as start_auth
from auth_service.settings import Settings as AuthSettings
from collection_service.server import start as start_collection
from collection_service.settings import Settings as CollectionSettings
from tests.conftest import BACKENDS, Databases, database_url, free_port, migrate
from tests.integration.conftest import bearer, code_of

PASSWORD, NEW = "correct horse battery", "a brand new passphrase"


async def status_of(stub: collection_pb2_grpc.CollectionServiceStub, token: str) -> grpc.StatusCode:
    return await code_of(stub.ListMyCigars(pb.ListMyCigarsRequest(), metadata=bearer(token), timeout=5))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_revocation_reaches_every_collection_process_and_holds_while_auth_service_is_down(
    backend: str, tmp_path: Path, pg_databases: Databases, key_file: Path
) -> None:
    auth_url = await database_url(backend, "auth", tmp_path, pg_databases)
    collection_url = await database_url(backend, "collection", tmp_path, pg_databases)
    await migrate("auth", auth_url)
    await migrate("collection", collection_url)
    auth_port = free_port()
    # two collection processes on one database, as two replicas; auth_service tells the first only
    settings = CollectionSettings(
        port=0, database_url=collection_url, auth_service_addr=f"127.0.0.1:{auth_port}", revocation_refresh_seconds=0.2
    )
    told, other = await start_collection(settings), await start_collection(settings)
    auth = await start_auth(AuthSettings(
        port=auth_port, database_url=auth_url, private_key_file=key_file,
        collection_service_addr=f"127.0.0.1:{told.port}",
    ))  # fmt: skip
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{auth.port}") as a,
            grpc.aio.insecure_channel(f"127.0.0.1:{told.port}") as t,
            grpc.aio.insecure_channel(f"127.0.0.1:{other.port}") as o,
        ):
            users = auth_pb2_grpc.AuthServiceStub(a)
            collections = [collection_pb2_grpc.CollectionServiceStub(c) for c in (t, o)]
            await users.CreateUser(
                auth_pb2.CreateUserRequest(username="rev", email="rev@example.com", password=PASSWORD)
            )
            old = (await users.Token(auth_pb2.TokenRequest(username="rev", password=PASSWORD))).access_token
            assert [await status_of(c, old) for c in collections] == [grpc.StatusCode.OK] * 2
            await users.ChangePassword(
                auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password=NEW), metadata=bearer(old)
            )
            assert await status_of(collections[0], old) == grpc.StatusCode.UNAUTHENTICATED  # told: at once
            deadline = time.monotonic() + 5
            while await status_of(collections[1], old) == grpc.StatusCode.OK:  # the other replica: soon
                assert time.monotonic() < deadline, "the other process never learned of the revocation"
                await asyncio.sleep(0.1)
            new = (await users.Token(auth_pb2.TokenRequest(username="rev", password=NEW))).access_token
            await auth.stop(grace=0)  # auth_service goes away: what collection_service knows holds
            auth = None
            for c in collections:
                assert await status_of(c, old) == grpc.StatusCode.UNAUTHENTICATED
                assert await status_of(c, new) == grpc.StatusCode.OK
    finally:
        if auth is not None:
            await auth.stop(grace=0)
        await told.stop(grace=0)
        await other.stop(grace=0)
