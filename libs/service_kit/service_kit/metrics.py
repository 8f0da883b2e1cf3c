"""Prometheus metrics of one server process: RPCs by method and code, their latency, and database pools."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .worker_metrics import Workers, answer, served_registry

PoolState = Callable[[], Mapping[str, int]]


class PoolCollector(Collector):
    """Connections of every database pool of the process by pool and state, read at scrape time."""

    def __init__(self, pools: Mapping[str, PoolState]) -> None:
        self._pools = pools

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "db_pool_connections", "Database connections by pool and state", labels=["pool", "state"]
        )
        for pool, state in self._pools.items():
            for name, count in state().items():
                gauge.add_metric([pool, name], count)
        yield gauge


class Metrics:
    def __init__(self, pools: Mapping[str, PoolState]) -> None:
        self.registry = CollectorRegistry()  # one per server: tests run several in one process
        # Started minus handled is what is in flight: accepted by the server and not answered yet.
        self.started = Counter(
            "grpc_server_started", "RPCs started by the server, by method",
            ["grpc_service", "grpc_method"], registry=self.registry,
        )  # fmt: skip
        self.handled = Counter(
            "grpc_server_handled", "RPCs completed, by method and status code",
            ["grpc_service", "grpc_method", "grpc_code"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "grpc_server_handling_seconds", "RPC latency", ["grpc_service", "grpc_method"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.registry.register(PoolCollector(pools))
        self._http: WSGIServer | None = None

    def serve(self, host: str, port: int) -> None:
        """Expose /metrics on host:port in a thread; port 0 leaves metrics unexposed. In a forked worker, answer
        the first worker instead, which serves every worker's samples summed (worker_metrics.py)."""
        if Workers.own is not None:
            answer(self.registry)
        if port:
            self._http, _ = start_http_server(port, addr=host, registry=served_registry(self.registry))

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def starter(self, method: str) -> Callable[[], None]:
        """What counts one started call of `method` (its series looked up once, here)."""
        service, _, name = method.strip("/").partition("/")
        return self.started.labels(service, name).inc

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
