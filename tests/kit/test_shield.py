"""The shield against client cancellation, on real in-process gRPC servers: a call that started finishes."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from service_kit.shield import ShieldInterceptor
from tests.conftest import PLUMBING_METHOD as METHOD
from tests.conftest import serve_plumbing as serve


async def test_a_call_whose_client_gives_up_still_runs_to_its_end() -> None:
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def handler(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        started.set()
        await release.wait()  # e.g. a database write in flight when the client disconnects
        finished.set()
        return request

    server, port = await serve(handler, [ShieldInterceptor()])
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(METHOD)(b"x", timeout=5)
            await asyncio.wait_for(started.wait(), 5)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        release.set()
        await asyncio.wait_for(finished.wait(), 5)
    finally:
        await server.stop(None)


@pytest.mark.parametrize(
    "interceptors",
    [lambda: [], lambda: [ShieldInterceptor(reads=[METHOD])]],
    ids=["no shield", "a declared read"],
)
async def test_without_the_shield_the_same_call_is_cut_short(interceptors) -> None:  # type: ignore[no-untyped-def]
    """The control experiment: what the shield prevents does happen without it, and to the methods
    declared reads, which skip the shield's task (cut short they stop; the drivers handle that)."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handler(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return request

    server, port = await serve(handler, interceptors())
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(METHOD)(b"x", timeout=5)
            await asyncio.wait_for(started.wait(), 5)
            call.cancel()
        await asyncio.wait_for(cancelled.wait(), 5)
    finally:
        await server.stop(None)
