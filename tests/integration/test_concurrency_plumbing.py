"""The spread client channel on real in-process gRPC servers, and the methods each service declares reads."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import descriptor_pool

from auth_service import server as auth_server
from auth_service.adapters.channels import SpreadChannel
from collection_service import server as collection_server
from tests.conftest import PLUMBING_METHOD as METHOD
from tests.conftest import serve_plumbing as serve


@pytest.mark.parametrize("server_module", [auth_server, collection_server])
def test_the_methods_declared_reads_exist_and_never_write(server_module) -> None:  # type: ignore[no-untyped-def]
    service = server_module.SERVICE
    names = {m.name for m in descriptor_pool.Default().FindServiceByName(service).methods}
    assert set(server_module.READS) <= names
    assert all(name.startswith(("Get", "List", "Export")) for name in server_module.READS)


async def test_the_spread_channel_uses_a_connection_per_slot_in_turn() -> None:
    peers: list[str] = []

    async def handler(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        peers.append(context.peer())
        return request

    server, port = await serve(handler)
    channel = SpreadChannel(f"127.0.0.1:{port}", 3)
    try:
        call = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
        assert await call(b"ping", timeout=5) == b"ping"  # asks every connection to connect
        await asyncio.sleep(0.5)
        peers.clear()
        assert [await call(b"ping", timeout=5) for _ in range(6)] == [b"ping"] * 6
    finally:
        await channel.close()
        await server.stop(None)
    # three connections (three client ports), each used twice, in turn
    assert len(set(peers)) == 3
    assert peers[:3] == peers[3:]


async def test_the_spread_channel_skips_a_connection_that_is_not_ready() -> None:
    async def handler(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return request

    server, port = await serve(handler)
    channel = SpreadChannel(f"127.0.0.1:{port}", 3)
    try:
        call = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
        await call(b"ping", timeout=5)
        await asyncio.sleep(0.5)
        await channel._channels[1].close()  # one connection gone (as after the other service restarted)
        assert [await call(b"ping", timeout=5) for _ in range(6)] == [b"ping"] * 6
    finally:
        await channel.close()
        await server.stop(None)
