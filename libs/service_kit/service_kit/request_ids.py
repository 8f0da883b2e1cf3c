"""Request ids across services: a contextvar bound per RPC, stamped on log records, forwarded on calls out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import grpc

REQUEST_ID_HEADER = "x-request-id"  # set by Envoy on every request (generate_request_id)
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the request id of the RPC that logs it ("-" outside any RPC)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class ForwardRequestId(grpc.aio.UnaryUnaryClientInterceptor):
    """Outgoing calls carry the current request id, so the next service logs under the same id."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        request_id = REQUEST_ID.get()
        if request_id != "-":
            metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
            metadata[REQUEST_ID_HEADER] = request_id
            details = client_call_details
            client_call_details = grpc.aio.ClientCallDetails(
                details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
            )
        return await continuation(client_call_details, request)
