"""The interceptor chain on streaming methods: a server stream written with context.write and a client stream
get the same error table as unary calls, on real in-process gRPC servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from service_kit.errors import ErrorInterceptor, ErrorTable
from service_kit.interceptors import Chain
from service_kit.shield import ShieldInterceptor


class Refused(Exception):
    pass


TABLE = ErrorTable("streams.example", {Refused: (code_pb2.FAILED_PRECONDITION, "refused")}, default=(2, "x"))
CHAIN = Chain(ErrorInterceptor((Refused,), TABLE), ShieldInterceptor())


async def serve(handlers: dict[str, Any]) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server(interceptors=[CHAIN])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Streams", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


def reason(err: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info.reason


async def test_a_server_stream_that_writes_then_fails_ends_with_the_tables_status() -> None:
    async def download(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await context.write(b"first")
        raise Refused("gone half way")

    server, port = await serve({"Download": grpc.unary_stream_rpc_method_handler(download)})
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_stream("/test.Streams/Download")(b"", timeout=5)
            received = []
            with pytest.raises(grpc.aio.AioRpcError) as err:
                async for message in call:
                    received.append(message)
            assert received == [b"first"]
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and reason(err.value) == "refused"
    finally:
        await server.stop(None)


async def test_a_client_stream_reads_every_message_and_its_errors_get_the_tables_status() -> None:
    async def upload(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        parts = [part async for part in requests]
        if b"bad" in parts:
            raise Refused("a bad part")
        return b"".join(parts)

    server, port = await serve({"Upload": grpc.stream_unary_rpc_method_handler(upload)})
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            send = channel.stream_unary("/test.Streams/Upload")
            assert await send(iter([b"a", b"b", b"c"]), timeout=5) == b"abc"
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await send(iter([b"a", b"bad"]), timeout=5)
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and reason(err.value) == "refused"
    finally:
        await server.stop(None)


async def test_a_server_stream_written_as_an_async_generator_passes_untouched() -> None:
    async def generated(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[bytes]:
        yield b"one"
        yield b"two"

    server, port = await serve({"Generated": grpc.unary_stream_rpc_method_handler(generated)})
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_stream("/test.Streams/Generated")(b"", timeout=5)
            assert [m async for m in call] == [b"one", b"two"]
    finally:
        await server.stop(None)
