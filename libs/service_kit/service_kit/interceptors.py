"""Base of the services' gRPC server interceptors: each method's behaviour is wrapped once, not per call."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeAlias

import grpc

# Strings: grpc's classes are generic only in their type stubs, not at run time.
ServicerContext: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
# (request or request iterator, context) -> the response, or None for a server-streaming method that writes
# its messages with context.write
Behaviour: TypeAlias = "Callable[[Any, ServicerContext], Awaitable[Any]]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Kind = Literal["unary_unary", "unary_stream", "stream_unary"]

_FACTORIES: dict[Kind, Callable[..., Handler]] = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
}


def _behaviour(handler: Handler) -> tuple[Kind, Behaviour] | None:
    """The handler's coroutine and its kind. Bidirectional streams and server streams written as async
    generators have no single awaitable to wrap: they pass untouched."""
    for kind in _FACTORIES:
        behaviour = getattr(handler, kind)
        if behaviour is not None:
            return None if inspect.isasyncgenfunction(behaviour) else (kind, behaviour)
    return None


class MethodInterceptor(grpc.aio.ServerInterceptor):
    """Subclasses say how to wrap a method's behaviour (`wrap`): a unary call, a server stream written with
    context.write (the wrapper sees the whole stream as one await) or a client stream (its request is the
    iterator). grpc.aio asks every interceptor for the handler on every call; the handler it gets back is the
    same object each time for a method, so the wrapped handler is built on the first call and then reused."""

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    def wrap(self, inner: Behaviour, method: str, kind: Kind) -> Behaviour:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        found = _behaviour(handler) if handler is not None else None
        if handler is None or found is None:
            return handler
        kind, behaviour = found
        method = handler_call_details.method
        cached = self._wrapped.get(method)  # only registered methods get here: the cache stays bounded
        if cached is None or cached[0] is not handler:
            wrapped = _FACTORIES[kind](
                self.wrap(behaviour, method, kind),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
            cached = self._wrapped[method] = (handler, wrapped)
        return cached[1]


class Chain(MethodInterceptor):
    """Several interceptors registered as one, the first outermost. grpc.aio runs every registered
    interceptor's intercept_service on every call; one registration instead of three saves that per call."""

    def __init__(self, *layers: MethodInterceptor) -> None:
        super().__init__()
        self._layers = layers

    def wrap(self, inner: Behaviour, method: str, kind: Kind) -> Behaviour:
        for layer in reversed(self._layers):
            inner = layer.wrap(inner, method, kind)
        return inner
