"""One place that maps domain and database errors to gRPC status codes with google.rpc details."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from .db.availability import database_unavailable
from .domain import CigarNotFound, CollectionError, InvalidInput, InvalidToken, KeysUnavailable, NotCigarOwner

log = logging.getLogger(__name__)
DOMAIN = "collection.cigar"

_CODES: dict[type[CollectionError], tuple[int, str]] = {
    InvalidInput: (code_pb2.INVALID_ARGUMENT, "invalid_request"),
    InvalidToken: (code_pb2.UNAUTHENTICATED, "invalid_token"),
    CigarNotFound: (code_pb2.NOT_FOUND, "not_found"),
    NotCigarOwner: (code_pb2.PERMISSION_DENIED, "not_owner"),
    KeysUnavailable: (code_pb2.UNAVAILABLE, "keys_unavailable"),
}


def to_status(exc: CollectionError) -> grpc.Status:
    code, reason = _CODES.get(type(exc), (code_pb2.INVALID_ARGUMENT, "invalid_request"))
    status = status_pb2.Status(code=code, message=str(exc))
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))
    if isinstance(exc, InvalidInput):
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations
            ]
        )
        status.details.add().Pack(bad)
    return rpc_status.to_status(status)


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Domain errors → their status; a database that cannot be reached → UNAVAILABLE (retryable);
    anything else → INTERNAL with a logged traceback and a generic message."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = handler_call_details.method

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except CollectionError as exc:
                await context.abort_with_status(to_status(exc))
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                if database_unavailable(exc):
                    log.warning("database unavailable in %s: %s", method, exc)
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable, try again later")
                log.exception("unexpected error in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
