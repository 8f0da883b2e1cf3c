"""A client channel over several connections, so that calls reach every worker process behind one port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import grpc


class _RoundRobin:
    """Takes the next connection that is READY, skipping ones still (re)connecting, e.g. after the
    other service restarted; when none is ready it behaves as a single channel would (connect or fail)."""

    def __init__(self, channels: list[grpc.aio.Channel], callables: list[Any]) -> None:
        self._pairs = list(zip(channels, callables, strict=True))
        self._next = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        count = len(self._pairs)
        for step in range(count):
            index = (self._next + step) % count
            channel, call = self._pairs[index]
            if channel.get_state(try_to_connect=True) == grpc.ChannelConnectivity.READY:
                self._next = (index + 1) % count
                return call(*args, **kwargs)
        index, self._next = self._next, (self._next + 1) % count
        return self._pairs[index][1](*args, **kwargs)


class SpreadChannel:
    """Quacks like grpc.aio.Channel for generated stubs (their constructors ask for every method, whether
    this service calls it or not; it calls unary ones). One gRPC channel is one HTTP/2
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
        return _RoundRobin(self._channels, [c.unary_unary(method, *args, **kwargs) for c in self._channels])

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> _RoundRobin:
        return _RoundRobin(self._channels, [c.unary_stream(method, *args, **kwargs) for c in self._channels])

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> _RoundRobin:
        return _RoundRobin(self._channels, [c.stream_unary(method, *args, **kwargs) for c in self._channels])

    def as_channel(self) -> grpc.aio.Channel:
        """This object, typed as what generated stubs take: it has the methods they ask for."""
        return cast(grpc.aio.Channel, self)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
