"""Traces, switched by the standard OpenTelemetry variables (settings.py). Off, as by default, this module is all
a service loads: OpenTelemetry is imported only when an exporter is configured (tracing.py), so a service that
does not trace pays nothing for it, in CPU per call or in memory."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from .db.driver import Driver
from .interceptors import MethodInterceptor
from .request_ids import ForwardRequestId
from .settings import ServiceSettings


class Telemetry:
    """Tracing off: every hook hands back what it was given, and calls out only forward the request id."""

    enabled = False

    def engine(self, engine: AsyncEngine) -> AsyncEngine:
        """The SQLAlchemy engine, its statements traced."""
        return engine

    def driver(self, driver: Driver, database_url: str) -> Driver:
        """The statement driver, its statements traced."""
        return driver

    def client_interceptors(self, target: str = "") -> list[Any]:
        """The interceptors of a channel to `target`, another service (one: each registered one costs per call)."""
        return [ForwardRequestId()]

    def server_layer(self) -> MethodInterceptor | None:
        """The layer of the server's interceptor chain that traces each call, if any."""
        return None

    async def shutdown(self) -> None:
        """Send the spans still buffered."""


def telemetry(settings: ServiceSettings, service: str) -> Telemetry:
    """Tracing as the settings ask for it; `service` names the service when OTEL_SERVICE_NAME does not."""
    if not settings.trace_exporters:
        return Telemetry()
    from .tracing import Tracing  # only now: OpenTelemetry's imports cost ~15 MB per process

    return Tracing(settings, settings.otel_service_name or service)
