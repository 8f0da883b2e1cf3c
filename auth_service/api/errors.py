"""The one place that maps auth_service's errors to gRPC status codes with google.rpc details."""

from __future__ import annotations

from google.rpc import code_pb2

from service_kit.errors import ErrorInterceptor, ErrorTable
from service_kit.tokens import TokenRejected

from ..domain import (
    AuthError,
    DependencyUnavailable,
    EmailAlreadyVerified,
    EmailNotVerified,
    EmailTaken,
    InvalidCredentials,
    InvalidGrant,
    InvalidInput,
    InvalidToken,
    ResetTokenInvalid,
    TooManyAttempts,
    TooManyRequests,
    UnsupportedGrantType,
    UsernameTaken,
    VerificationTokenInvalid,
    WrongPassword,
)

# (gRPC code, RFC 6749 / RFC 6750 error name carried as ErrorInfo.reason)
TABLE = ErrorTable(
    "auth.cigar",
    {
        InvalidInput: (code_pb2.INVALID_ARGUMENT, "invalid_request"),
        WrongPassword: (code_pb2.INVALID_ARGUMENT, "invalid_request"),
        UsernameTaken: (code_pb2.ALREADY_EXISTS, "username_taken"),
        EmailTaken: (code_pb2.ALREADY_EXISTS, "email_taken"),
        UnsupportedGrantType: (code_pb2.INVALID_ARGUMENT, "unsupported_grant_type"),
        # RFC 6749 §5.2: a wrong username or password is a 400 invalid_grant, not a 401.
        InvalidCredentials: (code_pb2.INVALID_ARGUMENT, "invalid_grant"),
        InvalidGrant: (code_pb2.INVALID_ARGUMENT, "invalid_grant"),
        InvalidToken: (code_pb2.UNAUTHENTICATED, "invalid_token"),
        TokenRejected: (code_pb2.UNAUTHENTICATED, "invalid_token"),
        # 429 through the gateway; RetryInfo tells gRPC clients, and rest_compat.lua REST clients, when to retry.
        TooManyAttempts: (code_pb2.RESOURCE_EXHAUSTED, "too_many_attempts"),
        TooManyRequests: (code_pb2.RESOURCE_EXHAUSTED, "too_many_requests"),
        DependencyUnavailable: (code_pb2.UNAVAILABLE, "unavailable"),
        ResetTokenInvalid: (code_pb2.INVALID_ARGUMENT, "invalid_reset_token"),
        EmailAlreadyVerified: (code_pb2.FAILED_PRECONDITION, "email_already_verified"),
        VerificationTokenInvalid: (code_pb2.INVALID_ARGUMENT, "invalid_verification_token"),
        # after the right password only, so it reveals nothing to someone who does not know it
        EmailNotVerified: (code_pb2.FAILED_PRECONDITION, "email_not_verified"),
    },
    default=(code_pb2.INVALID_ARGUMENT, "invalid_request"),
)


def error_interceptor() -> ErrorInterceptor:
    return ErrorInterceptor((AuthError, TokenRejected), TABLE)
