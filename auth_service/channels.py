"""A client channel over several connections, so that calls reach every worker process behind one port."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import grpc


class _RoundRobin:
    def __init__(self, callables: list[Any]) -> None:
        self._next = itertools.cycle(callables).__next__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._next()(*args, **kwargs)


class SpreadChannel:
    """Quacks like grpc.aio.Channel for generated stubs' unary calls. One gRPC channel is one HTTP/2
    connection, which SO_REUSEPORT hands to one worker of the other service for good; several
    connections (each with its own subchannel pool, so gRPC does not merge them) spread the calls."""

    def __init__(
        self, target: str, connections: int, interceptors: Sequence[Any] = (), options: Sequence[Any] = ()
    ) -> None:
        options = [*options, ("grpc.use_local_subchannel_pool", 1)]
        self._channels = [
            grpc.aio.insecure_channel(target, options=options, interceptors=list(interceptors) or None)
            for _ in range(connections)
        ]

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> _RoundRobin:
        return _RoundRobin([c.unary_unary(method, *args, **kwargs) for c in self._channels])

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
