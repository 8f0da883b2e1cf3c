"""The error interceptor: the service's own errors become their status (from the service's table), a
database that cannot be reached becomes UNAVAILABLE, anything else INTERNAL with a logged traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from .db.availability import database_unavailable
from .interceptors import Behaviour, Kind, MethodInterceptor, ServicerContext

log = logging.getLogger(__name__)


def rich_status(
    code: int,
    message: str,
    reason: str,
    domain: str,
    violations: Iterable[tuple[str, str]] = (),
    retry_after_seconds: int | None = None,
) -> grpc.Status:
    """A google.rpc.Status with an ErrorInfo (reason, domain), BadRequest field violations (field,
    description) if any, and RetryInfo if a retry delay is known: the gateway turns these into REST errors."""
    status = status_pb2.Status(code=code, message=message)
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain))
    fields = [error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations]
    if fields:
        status.details.add().Pack(error_details_pb2.BadRequest(field_violations=fields))
    if retry_after_seconds is not None:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.seconds = retry_after_seconds
        status.details.add().Pack(retry)
    return rpc_status.to_status(status)


class ErrorTable:
    """A service's errors and what each becomes: (google.rpc code, ErrorInfo reason) by exact type, in the
    service's ErrorInfo domain. An error may carry `violations` (items with .field and .description: a
    BadRequest) and `retry_after` (seconds: a RetryInfo). Its message is shown to the caller."""

    def __init__(self, domain: str, codes: Mapping[type[Exception], tuple[int, str]], default: tuple[int, str]) -> None:
        self.domain = domain
        self._codes = codes
        self._default = default

    def status(self, exc: Exception) -> grpc.Status:
        code, reason = self._codes.get(type(exc), self._default)
        violations = [(v.field, v.description) for v in getattr(exc, "violations", ())]
        return rich_status(code, str(exc), reason, self.domain, violations, getattr(exc, "retry_after", None))


class ErrorInterceptor(MethodInterceptor):
    """`expected` are the base classes of the errors a caller can cause; `table` says what each becomes."""

    def __init__(self, expected: tuple[type[Exception], ...], table: ErrorTable) -> None:
        super().__init__()
        self._expected = expected
        self._table = table

    def wrap(self, inner: Behaviour, method: str, kind: Kind) -> Behaviour:
        expected, to_status = self._expected, self._table.status

        async def guarded(request: Any, context: ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except expected as exc:
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
