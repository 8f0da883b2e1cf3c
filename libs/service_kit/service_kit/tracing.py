"""OpenTelemetry traces of a service, imported only when tracing is on (telemetry.py): a SERVER span per call in
the interceptor chain, a CLIENT span per call to another service with the W3C traceparent sent along, and a
CLIENT span per database statement, on the statement driver and on SQLAlchemy's engines alike.

The spans are made here rather than by opentelemetry-instrumentation-grpc's interceptors: grpc.aio runs every
registered interceptor on every call, and its server interceptor builds a new handler per call, where a layer
of the chain costs one coroutine frame (docs/decisions/2026-12-01-traces-in-the-interceptor-chain.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from .db.driver import Driver, Row
from .interceptors import Behaviour, ServicerContext, UnaryInterceptor
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


class ServerSpans(UnaryInterceptor):
    """A layer of the server's chain, inside the one that binds the request id: a SERVER span per call, child of
    the caller's traceparent, with the request id and the final status code."""

    def __init__(self, tracer: trace.Tracer) -> None:
        super().__init__()
        self._tracer = tracer

    def wrap(self, inner: Behaviour, method: str) -> Behaviour:
        if method.startswith(QUIET_PREFIX):
            return inner  # Envoy's health checks, every 2 s: no traces of them
        name, attributes, tracer = method.strip("/"), rpc_attributes(method), self._tracer

        async def traced(request: Any, context: ServicerContext) -> Any:
            parent = propagate.extract(dict(context.invocation_metadata() or ()))
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

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        details = client_call_details
        raw: object = details.method  # bytes at run time, whatever the stubs say
        method = raw.decode() if isinstance(raw, bytes) else str(raw)
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if (request_id := REQUEST_ID.get()) != "-":
            metadata[REQUEST_ID_HEADER] = request_id
        attributes = {**rpc_attributes(method), **self._peer}
        with self._tracer.start_as_current_span(method.strip("/"), kind=SpanKind.CLIENT, attributes=attributes,
                                                end_on_exit=False) as span:  # fmt: skip
            propagate.inject(metadata)
            call = await continuation(
                grpc.aio.ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                           details.wait_for_ready),
                request,
            )  # fmt: skip
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


def database_attributes(database_url: str) -> tuple[str, dict[str, Any]]:
    """The database's name and the attributes every statement span on it carries."""
    url = make_url(database_url)
    system = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    name = Path(url.database or "").name if system == "sqlite" else (url.database or "")
    attributes: dict[str, Any] = {"db.system": system, "db.name": name}
    if url.host:
        attributes["server.address"] = url.host
        attributes["server.port"] = url.port or 5432
    return name, attributes


class StatementSpans:
    """Span names and attributes of one database's statements; the names are cached per statement text."""

    def __init__(self, tracer: trace.Tracer, database_url: str) -> None:
        self.tracer = tracer
        self._database, self._attributes = database_attributes(database_url)
        self._names: dict[str, str] = {}

    def start(self, sql: str) -> trace.Span:
        name = self._names.get(sql)
        if name is None:
            words = sql.split(None, 1)
            name = self._names[sql] = f"{words[0].upper() if words else 'SQL'} {self._database}".strip()
        return self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes={**self._attributes, "db.statement": sql})


class TracedDriver:
    """The statement driver, a CLIENT span around each statement (pool wait included: that is what it costs)."""

    def __init__(self, driver: Driver, spans: StatementSpans) -> None:
        self._driver = driver
        self._spans = spans
        self.dialect = driver.dialect

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        span = self._spans.start(sql)
        with trace.use_span(span, end_on_exit=True):
            return await self._driver.fetch(sql, params)

    def pool_state(self) -> dict[str, int]:
        return self._driver.pool_state()

    async def close(self) -> None:
        await self._driver.close()


def trace_engine(engine: AsyncEngine, spans: StatementSpans) -> None:
    """A CLIENT span per statement SQLAlchemy sends. Its async engines run the statement in a greenlet that
    shares the caller's context, so the span is the child of the call's."""
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _started(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if context is not None:
            context._trace_span = spans.start(statement)

    @event.listens_for(sync, "after_cursor_execute")
    def _done(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        span = getattr(context, "_trace_span", None)
        if span is not None:
            span.end()

    @event.listens_for(sync, "handle_error")
    def _failed(exception_context: Any) -> None:
        span = getattr(exception_context.execution_context, "_trace_span", None)
        if span is not None:
            span.record_exception(exception_context.original_exception)
            span.set_status(Status(StatusCode.ERROR, type(exception_context.original_exception).__name__))
            span.end()


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

    def engine(self, engine: AsyncEngine) -> AsyncEngine:
        trace_engine(engine, StatementSpans(self.tracer, engine.url.render_as_string()))
        return engine

    def driver(self, driver: Driver, database_url: str) -> Driver:
        return TracedDriver(driver, StatementSpans(self.tracer, database_url))

    def client_interceptors(self, target: str = "") -> list[Any]:
        return [ClientSpans(self.tracer, target)]

    def server_layer(self) -> UnaryInterceptor | None:
        return ServerSpans(self.tracer)

    async def shutdown(self) -> None:
        await asyncio.to_thread(self.provider.force_flush, FLUSH_TIMEOUT_MS)
        await asyncio.to_thread(self.provider.shutdown)
