"""A CLIENT span per database statement (imported only when tracing is on): around the statement driver's
fetch, and from SQLAlchemy's cursor events. Both name a span "<first SQL word> <database>" and carry db.system,
db.name, db.statement (placeholders, never values) and the server's address."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from .driver import Driver, Row


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

    def start(self, sql: str) -> trace.Span | None:
        """The statement's span, or None outside a sampled call: under an unsampled one (most of them at a low
        ratio) no span would be kept, and a statement of no call at all (a background task's poll) would only
        start traces of its own."""
        if not trace.get_current_span().is_recording():
            return None
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
        if span is None:
            return await self._driver.fetch(sql, params)
        try:  # not made current: nothing under a statement makes spans, and attaching costs per call
            return await self._driver.fetch(sql, params)
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            span.end()

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
        span = spans.start(statement) if context is not None else None
        if span is not None:
            context._trace_span = span

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
