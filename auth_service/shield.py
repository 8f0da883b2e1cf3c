"""A call that has started runs to its end even if the caller goes away: no transaction is cut in half."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a call whose caller is gone has nobody to report to


class ShieldInterceptor(grpc.aio.ServerInterceptor):
    """When a client disconnects, grpc.aio cancels the handler wherever it is awaiting, e.g. inside a
    database driver; a cancelled SQLite write could leave its lock held and stall every later writer.
    Running the handler as a shielded task lets it finish (bounded by the database's own timeouts)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def shielded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            task = asyncio.ensure_future(inner(request, context))
            task.add_done_callback(_consume)
            return await asyncio.shield(task)

        return grpc.unary_unary_rpc_method_handler(
            shielded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
