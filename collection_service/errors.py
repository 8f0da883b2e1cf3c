"""One place that maps domain and database errors to gRPC status codes with google.rpc details."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from .db.availability import database_unavailable
from .domain import CigarNotFound, CollectionError, InvalidInput, InvalidToken, KeysUnavailable, NotCigarOwner
from .rpc import Behaviour, UnaryInterceptor

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


class ErrorInterceptor(UnaryInterceptor):
    """Domain errors → their status; a database that cannot be reached → UNAVAILABLE (retryable);
    anything else → INTERNAL with a logged traceback and a generic message."""

    def wrap(self, inner: Behaviour, method: str) -> Behaviour:
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

        return guarded
