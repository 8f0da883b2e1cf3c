"""Prometheus metrics of this service (RPCs by method and code, latencies, DB pool) and the per-RPC interceptor."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .rpc import Behaviour, UnaryInterceptor
from .telemetry import REQUEST_ID, REQUEST_ID_HEADER

log = logging.getLogger(__name__)
QUIET_PREFIX = "/grpc.health.v1.Health/"  # Envoy probes every 2 s: counted, never logged


class PoolCollector(Collector):
    """Connections of the pool that serves the cigar calls (db/driver.py), read at scrape time."""

    def __init__(self, pool_state: Callable[[], dict[str, int]]) -> None:
        self._pool_state = pool_state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("db_pool_connections", "Database connections by state", labels=["state"])
        for state, count in self._pool_state().items():
            gauge.add_metric([state], count)
        yield gauge


class Metrics:
    def __init__(self, pool_state: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()  # one per server: tests run several in one process
        self.handled = Counter(
            "grpc_server_handled", "RPCs completed, by method and status code",
            ["grpc_service", "grpc_method", "grpc_code"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "grpc_server_handling_seconds", "RPC latency", ["grpc_service", "grpc_method"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.registry.register(PoolCollector(pool_state))
        self._http: WSGIServer | None = None

    def serve(self, host: str, port: int) -> None:
        """Expose /metrics on host:port in a thread; port 0 leaves metrics unexposed."""
        if port:
            self._http, _ = start_http_server(port, addr=host, registry=self.registry)

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def recorder(self, method: str) -> Callable[[str, float], None]:
        """What records one call of `method` (its code and duration): the method's labelled series are looked
        up here, once, rather than on every call."""
        service, _, name = method.strip("/").partition("/")
        latency = self.latency.labels(service, name)
        handled: dict[str, Any] = {}

        def record(code: str, seconds: float) -> None:
            counter = handled.get(code)
            if counter is None:
                counter = handled[code] = self.handled.labels(service, name, code)
            counter.inc()
            latency.observe(seconds)

        return record


class ObservabilityInterceptor(UnaryInterceptor):
    """Outermost interceptor: binds the request id, then counts, times and logs each RPC with its final code."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self._metrics = metrics

    def wrap(self, inner: Behaviour, method: str) -> Behaviour:
        record = self._metrics.recorder(method)
        loud = not method.startswith(QUIET_PREFIX)

        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            incoming = dict(context.invocation_metadata() or ())
            token = REQUEST_ID.set(str(incoming.get(REQUEST_ID_HEADER) or uuid.uuid4()))
            started, crashed = time.perf_counter(), False
            try:
                return await inner(request, context)
            except Exception as exc:
                crashed = not isinstance(exc, grpc.aio.AbortError)  # an abort has set the code already
                raise
            finally:
                elapsed = time.perf_counter() - started
                code = grpc.StatusCode.UNKNOWN if crashed else (context.code() or grpc.StatusCode.OK)
                code_name = code.name if isinstance(code, grpc.StatusCode) else str(code)
                record(code_name, elapsed)
                if loud and log.isEnabledFor(logging.INFO):
                    fields = {"grpc_method": method, "grpc_code": code_name, "duration_ms": round(elapsed * 1000, 1)}
                    log.info("rpc %s %s %.1f ms", method, code_name, elapsed * 1000, extra=fields)
                REQUEST_ID.reset(token)

        return observed
