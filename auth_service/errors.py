"""One place that maps domain errors to gRPC status codes with google.rpc details."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from .db.availability import database_unavailable
from .domain import (
    AuthError,
    DependencyUnavailable,
    EmailNotVerified,
    EmailTaken,
    FieldViolation,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    TooManyAttempts,
    UnsupportedGrantType,
    UsernameTaken,
    VerificationTokenInvalid,
    WrongPassword,
)
from .rpc import Behaviour, UnaryInterceptor

log = logging.getLogger(__name__)
DOMAIN = "auth.cigar"

# (gRPC code, RFC 6749 / RFC 6750 error name carried as ErrorInfo.reason)
_CODES: dict[type[AuthError], tuple[int, str]] = {
    InvalidInput: (code_pb2.INVALID_ARGUMENT, "invalid_request"),
    UsernameTaken: (code_pb2.ALREADY_EXISTS, "username_taken"),
    EmailTaken: (code_pb2.ALREADY_EXISTS, "email_taken"),
    UnsupportedGrantType: (code_pb2.INVALID_ARGUMENT, "unsupported_grant_type"),
    # RFC 6749 §5.2: a wrong username or password is a 400 invalid_grant, not a 401.
    InvalidCredentials: (code_pb2.INVALID_ARGUMENT, "invalid_grant"),
    InvalidToken: (code_pb2.UNAUTHENTICATED, "invalid_token"),
    # 429 through the gateway; RetryInfo tells gRPC clients, and rest_compat.lua REST clients, when to retry.
    TooManyAttempts: (code_pb2.RESOURCE_EXHAUSTED, "too_many_attempts"),
    DependencyUnavailable: (code_pb2.UNAVAILABLE, "unavailable"),
    WrongPassword: (code_pb2.INVALID_ARGUMENT, "invalid_request"),
    VerificationTokenInvalid: (code_pb2.INVALID_ARGUMENT, "invalid_verification_token"),
    # after the right password only, so it reveals nothing to someone who does not know it
    EmailNotVerified: (code_pb2.FAILED_PRECONDITION, "email_not_verified"),
}


def to_status(exc: AuthError) -> grpc.Status:
    code, reason = _CODES.get(type(exc), (code_pb2.INVALID_ARGUMENT, "invalid_request"))
    status = status_pb2.Status(code=code, message=str(exc))
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN)
    status.details.add().Pack(info)
    violations = exc.violations if isinstance(exc, InvalidInput) else []
    if isinstance(exc, WrongPassword):
        violations = [FieldViolation("current_password", "is incorrect")]
    if violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in violations
            ]
        )
        status.details.add().Pack(bad)
    if isinstance(exc, TooManyAttempts):
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.seconds = exc.retry_after
        status.details.add().Pack(retry)
    return rpc_status.to_status(status)


class ErrorInterceptor(UnaryInterceptor):
    """Domain errors → their status; a database that cannot be reached → UNAVAILABLE (retryable);
    anything else → INTERNAL with a logged traceback and a generic message."""

    def wrap(self, inner: Behaviour, method: str) -> Behaviour:
        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except AuthError as exc:
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
