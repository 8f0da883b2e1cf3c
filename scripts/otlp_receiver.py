"""An OTLP/gRPC trace receiver in this process (opentelemetry-proto's TraceService): what the stack exports its
spans to in the trace tests and in `make bench --tracing`, where no collector can be installed."""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, object]


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Counts every span it is sent, and keeps them unless `keep` is False (a benchmark's millions)."""

    def __init__(self, keep: bool = True) -> None:
        self.spans: list[Span] = []
        self.count = 0
        self._keep = keep
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None

    def Export(  # noqa: N802  (the proto's name)
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        received, count = [], 0
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                count += len(scope.spans)
                if not self._keep:
                    continue
                for s in scope.spans:
                    attributes = {a.key: getattr(a.value, a.value.WhichOneof("value") or "string_value")
                                  for a in s.attributes}  # fmt: skip
                    received.append(Span(resource.get("service.name", "?"), s.name, s.kind, s.trace_id.hex(),
                                         s.span_id.hex(), s.parent_span_id.hex(), attributes))  # fmt: skip
        with self._lock:
            self.spans.extend(received)
            self.count += count
        return trace_service_pb2.ExportTraceServiceResponse()

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def start(self) -> int:
        """Listen on a free loopback port, in threads; returns the port."""
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
