"""The one place that maps collection_service's errors to gRPC status codes with google.rpc details."""

from __future__ import annotations

from google.rpc import code_pb2

from service_kit.errors import ErrorInterceptor, ErrorTable
from service_kit.tokens import TokenRejected

from ..domain import CigarNotFound, CollectionError, InvalidInput, InvalidToken, KeysUnavailable, NotCigarOwner

TABLE = ErrorTable(
    "collection.cigar",
    {
        InvalidInput: (code_pb2.INVALID_ARGUMENT, "invalid_request"),
        InvalidToken: (code_pb2.UNAUTHENTICATED, "invalid_token"),
        TokenRejected: (code_pb2.UNAUTHENTICATED, "invalid_token"),
        CigarNotFound: (code_pb2.NOT_FOUND, "not_found"),
        NotCigarOwner: (code_pb2.PERMISSION_DENIED, "not_owner"),
        KeysUnavailable: (code_pb2.UNAVAILABLE, "keys_unavailable"),
    },
    default=(code_pb2.INVALID_ARGUMENT, "invalid_request"),
)


def error_interceptor() -> ErrorInterceptor:
    return ErrorInterceptor((CollectionError, TokenRejected), TABLE)
