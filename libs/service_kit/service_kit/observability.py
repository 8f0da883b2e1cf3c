"""The outermost interceptor: every RPC bound to its request id, counted, timed and logged with its final code."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, cast

import grpc

from .interceptors import Behaviour, Kind, MethodInterceptor, ServicerContext
from .metrics import Metrics
from .request_ids import REQUEST_ID, REQUEST_ID_HEADER

log = logging.getLogger(__name__)
QUIET_PREFIX = "/grpc.health.v1.Health/"  # Envoy probes every 2 s: counted, never logged


def final_code(context: ServicerContext, crashed: bool) -> str:
    """The name of the status code a call ended with: UNKNOWN if it raised anything but an abort."""
    # code() is None until the handler sets one (the stubs say otherwise)
    code: object = grpc.StatusCode.UNKNOWN if crashed else (cast(object, context.code()) or grpc.StatusCode.OK)
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class ObservabilityInterceptor(MethodInterceptor):
    """Binds the request id (the caller's x-request-id, or a fresh UUID), then counts, times and logs each RPC."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self._metrics = metrics

    def wrap(self, inner: Behaviour, method: str, kind: Kind) -> Behaviour:
        start, record = self._metrics.starter(method), self._metrics.recorder(method)
        loud = not method.startswith(QUIET_PREFIX)

        async def observed(request: Any, context: ServicerContext) -> Any:
            incoming = dict(context.invocation_metadata() or ())
            token = REQUEST_ID.set(str(incoming.get(REQUEST_ID_HEADER) or uuid.uuid4()))
            started, crashed = time.perf_counter(), False
            start()
            try:
                return await inner(request, context)
            except Exception as exc:
                crashed = not isinstance(exc, grpc.aio.AbortError)  # an abort has set the code already
                raise
            finally:
                elapsed = time.perf_counter() - started
                code_name = final_code(context, crashed)
                record(code_name, elapsed)
                if loud and log.isEnabledFor(logging.INFO):
                    fields = {"grpc_method": method, "grpc_code": code_name, "duration_ms": round(elapsed * 1000, 1)}
                    log.info("rpc %s %s %.1f ms", method, code_name, elapsed * 1000, extra=fields)
                REQUEST_ID.reset(token)

        return observed
