"""Base of the services' gRPC server interceptors: each method's unary behaviour is wrapped once, not per call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import grpc

# Strings: grpc's classes are generic only in their type stubs, not at run time.
ServicerContext: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Behaviour: TypeAlias = "Callable[[Any, ServicerContext], Awaitable[Any]]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class UnaryInterceptor(grpc.aio.ServerInterceptor):
    """Subclasses say how to wrap a unary-unary behaviour (`wrap`); streaming methods pass untouched.
    grpc.aio asks every interceptor for the handler on every call; the handler it gets back is the same
    object each time for a method, so the wrapped handler is built on the first call and then reused."""

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    def wrap(self, inner: Behaviour, method: str) -> Behaviour:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        cached = self._wrapped.get(method)  # only registered methods get here: the cache stays bounded
        if cached is None or cached[0] is not handler:
            wrapped = grpc.unary_unary_rpc_method_handler(
                self.wrap(handler.unary_unary, method),  # type: ignore[arg-type]  # grpc.aio's handlers are async
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
            cached = self._wrapped[method] = (handler, wrapped)
        return cached[1]


class Chain(UnaryInterceptor):
    """Several interceptors registered as one, the first outermost. grpc.aio runs every registered
    interceptor's intercept_service on every call; one registration instead of three saves that per call."""

    def __init__(self, *layers: UnaryInterceptor) -> None:
        super().__init__()
        self._layers = layers

    def wrap(self, inner: Behaviour, method: str) -> Behaviour:
        for layer in reversed(self._layers):
            inner = layer.wrap(inner, method)
        return inner
