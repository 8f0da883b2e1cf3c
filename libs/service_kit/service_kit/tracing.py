"""OpenTelemetry traces of a service, imported only when tracing is on (telemetry.py): a SERVER span per call in
the interceptor chain, a CLIENT span per call to another service with the W3C traceparent sent along, and a
CLIENT span per database statement, on the statement driver and on SQLAlchemy's engines alike (db/tracing.py).

The spans are made here rather than by opentelemetry-instrumentation-grpc's interceptors: grpc.aio runs every
registered interceptor on every call, and its server interceptor builds a new handler per call, where a layer
of the chain costs one coroutine frame (docs/decisions/2026-11-29-traces-in-the-interceptor-chain.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from .db.driver import Driver
from .db.tracing import StatementSpans, TracedDriver, trace_engine
from .interceptors import Behaviour, Kind, MethodInterceptor, ServicerContext
from .observability import QUIET_PREFIX, final_code
from .request_ids import REQUEST_ID, REQUEST_ID_HEADER
from .settings import ServiceSettings
from .telemetry import Telemetry

# The codes that are the server's fault (OpenTelemetry's gRPC conventions); the others are the caller's.
SERVER_ERRORS = frozenset({"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"})
REQUEST_ID_ATTRIBUTE = "request_id"  # as in the log lines, and the gateway's spans (envoy.yaml.tmpl)
FLUSH_TIMEOUT_MS = 2000  # at shutdown; the collector may be gone


def sampler(settings: ServiceSettings) -> sampling.Sampler:
    """OTEL_TRACES_SAMPLER and its argument, as the OpenTelemetry SDK's own configuration reads them."""
    name, ratio = settings.otel_traces_sampler, settings.otel_traces_sampler_arg
    root: sampling.Sampler = {
        "always_on": sampling.ALWAYS_ON, "always_off": sampling.ALWAYS_OFF,
    }.get(name.removeprefix("parentbased_")) or sampling.TraceIdRatioBased(ratio)  # fmt: skip
    return sampling.ParentBased(root) if name.startswith("parentbased_") else root


def exporters(settings: ServiceSettings) -> Iterator[SpanExporter]:
    for name in settings.trace_exporters:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            # The rest of OTEL_EXPORTER_OTLP_* (headers, certificate, timeout, compression) the exporter reads
            # itself; an http:// endpoint is a plain-text connection.
            yield OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
        elif name == "console":
            yield ConsoleSpanExporter()


def rpc_attributes(method: str) -> dict[str, Any]:
    service, _, name = method.strip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


class ServerSpans(MethodInterceptor):
    """A layer of the server's chain, inside the one that binds the request id: a SERVER span per call, child of
    the caller's traceparent, with the request id and the final status code."""

    def __init__(self, tracer: trace.Tracer, parent_based: bool = True) -> None:
        super().__init__()
        self._tracer = tracer
        self._parent_based = parent_based  # the sampler follows the caller: an unsampled caller needs no span

    def wrap(self, inner: Behaviour, method: str, kind: Kind) -> Behaviour:
        if method.startswith(QUIET_PREFIX):
            return inner  # Envoy's health checks, every 2 s: no traces of them
        name, attributes = method.strip("/"), rpc_attributes(method)
        tracer, parent_based = self._tracer, self._parent_based

        async def traced(request: Any, context: ServicerContext) -> Any:
            parent = propagate.extract(dict(context.invocation_metadata() or ()))
            caller = trace.get_current_span(parent).get_span_context()
            if parent_based and caller.is_valid and not caller.trace_flags.sampled:
                # Not sampled upstream (at a 1 % ratio, 99 calls in 100): no span, only the caller's context
                # made current, so that calls out carry the decision on.
                token = otel_context.attach(parent)
                try:
                    return await inner(request, context)
                finally:
                    otel_context.detach(token)
            span = tracer.start_span(name, parent, SpanKind.SERVER, attributes)
            span.set_attribute(REQUEST_ID_ATTRIBUTE, REQUEST_ID.get())
            token = otel_context.attach(trace.set_span_in_context(span, parent))
            crashed = False
            try:
                return await inner(request, context)
            except Exception as exc:
                crashed = not isinstance(exc, grpc.aio.AbortError)
                if crashed:
                    span.record_exception(exc)
                raise
            finally:
                code = final_code(context, crashed)
                end(span, code, error=code in SERVER_ERRORS)
                otel_context.detach(token)

        return traced


def end(span: trace.Span, code: str, error: bool) -> None:
    status = getattr(grpc.StatusCode, code, grpc.StatusCode.UNKNOWN)
    span.set_attribute("rpc.grpc.status_code", status.value[0])
    if error:
        span.set_status(Status(StatusCode.ERROR, code))
    span.end()


class ClientSpans(grpc.aio.UnaryUnaryClientInterceptor):
    """The one interceptor of a channel to another service when tracing: a CLIENT span per call, its context
    sent as traceparent, and the request id forwarded (what ForwardRequestId does when tracing is off)."""

    def __init__(self, tracer: trace.Tracer, target: str) -> None:
        self._tracer = tracer
        host, _, port = target.rpartition(":")
        self._peer: dict[str, Any] = {"server.address": host or target}
        if port.isdigit():
            self._peer["server.port"] = int(port)

    @staticmethod
    def _details(details: grpc.aio.ClientCallDetails, metadata: grpc.aio.Metadata) -> grpc.aio.ClientCallDetails:
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        details = client_call_details
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if (request_id := REQUEST_ID.get()) != "-":
            metadata[REQUEST_ID_HEADER] = request_id
        if not trace.get_current_span().is_recording():
            # in an unsampled call, or in none (a background task): no span, the caller's context sent on
            propagate.inject(metadata)
            return await continuation(self._details(details, metadata), request)
        raw: object = details.method  # bytes at run time, whatever the stubs say
        method = raw.decode() if isinstance(raw, bytes) else str(raw)
        attributes = {**rpc_attributes(method), **self._peer}
        with self._tracer.start_as_current_span(method.strip("/"), kind=SpanKind.CLIENT, attributes=attributes,
                                                end_on_exit=False) as span:  # fmt: skip
            propagate.inject(metadata)
            call = await continuation(self._details(details, metadata), request)
            try:
                await call  # the response: the caller's own await gets it again, or the same error
                code = "OK"
            except grpc.aio.AioRpcError as exc:
                code = exc.code().name
            except asyncio.CancelledError:
                end(span, "CANCELLED", error=False)
                raise
            end(span, code, error=code != "OK")
        return call


class Tracing(Telemetry):
    """Tracing on: a tracer provider of this process (not the global one: tests run several services in one
    process), exporting in batches from a thread of its own, never on the event loop."""

    enabled = True

    def __init__(self, settings: ServiceSettings, service: str) -> None:
        self.provider = TracerProvider(sampler=sampler(settings), resource=Resource.create({"service.name": service}))
        for exporter in exporters(settings):
            self.provider.add_span_processor(
                BatchSpanProcessor(exporter, schedule_delay_millis=settings.otel_bsp_schedule_delay)
            )
        self.tracer = self.provider.get_tracer("service_kit")
        self._parent_based = settings.otel_traces_sampler.startswith("parentbased_")

    def engine(self, engine: AsyncEngine) -> AsyncEngine:
        trace_engine(engine, StatementSpans(self.tracer, engine.url.render_as_string()))
        return engine

    def driver(self, driver: Driver, database_url: str) -> Driver:
        return TracedDriver(driver, StatementSpans(self.tracer, database_url))

    def client_interceptors(self, target: str = "") -> list[Any]:
        return [ClientSpans(self.tracer, target)]

    def server_layer(self) -> MethodInterceptor | None:
        return ServerSpans(self.tracer, self._parent_based)

    async def shutdown(self) -> None:
        await asyncio.to_thread(self.provider.force_flush, FLUSH_TIMEOUT_MS)
        await asyncio.to_thread(self.provider.shutdown)
