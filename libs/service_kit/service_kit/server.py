"""A grpc.aio server as every service runs it: the interceptor chain, health and reflection, metrics, a
graceful stop, and a loop that serves until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from .errors import ErrorInterceptor
from .interceptors import Chain
from .metrics import Metrics, PoolState
from .observability import ObservabilityInterceptor
from .reflection import enable_reflection
from .settings import ServiceSettings
from .shield import ShieldInterceptor
from .telemetry import Telemetry

log = logging.getLogger(__name__)
HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# gRPC refuses metadata past a soft limit (8 KiB, at random up to the hard one) with RESOURCE_EXHAUSTED and a
# message listing the headers: through the gateway that was a 429 naming Envoy's internal headers. One fixed
# limit, above the gateway's 32 KiB of request headers plus what Envoy adds, so the gateway decides (431).
MAX_METADATA_BYTES = 64 * 1024
METADATA_LIMITS = [
    ("grpc.max_metadata_size", MAX_METADATA_BYTES),
    ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
]


@dataclass
class GrpcServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    metrics: Metrics

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING so the gateway stops routing here, then let in-flight calls finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)

    def close(self) -> None:
        self.metrics.close()


async def start_grpc(
    settings: ServiceSettings,
    service: str,
    register: Callable[[grpc.aio.Server], None],
    errors: ErrorInterceptor,
    reads: Collection[str],
    pools: Mapping[str, PoolState],
    telemetry: Telemetry | None = None,
) -> GrpcServer:
    """Serve `service` (its full proto name), whose servicer `register` adds, on settings.host:port.
    `reads` names the methods that never write: a call cut short by its client may simply stop (shield.py).
    `pools` are the database pools the metrics report; `telemetry` may add a tracing layer to the chain."""
    metrics = Metrics(pools)
    # One registered interceptor (a Chain of three, four when tracing): grpc.aio asks each registered one on every call.
    shield = ShieldInterceptor([f"/{service}/{name}" for name in reads])
    tracing = telemetry.server_layer() if telemetry else None  # inside the request id's layer: spans carry it
    chain = Chain(ObservabilityInterceptor(metrics), *([tracing] if tracing else []), errors, shield)
    # so_reuseport: several worker processes (settings.workers) serve one port; the kernel spreads connections.
    options = [("grpc.so_reuseport", 1), *METADATA_LIMITS]
    server = grpc.aio.server(interceptors=[chain], options=options)
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    enable_reflection((service, HEALTH), server)
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    await server.start()
    metrics.serve(settings.metrics_host, settings.metrics_port)
    for name in ("", service):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return GrpcServer(server, port, health_servicer, metrics)


async def serve_until_signalled(name: str, stop: Callable[[float], Awaitable[None]], grace: float) -> None:
    """Wait for SIGTERM or SIGINT, then stop gracefully (`stop(grace)`)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("%s shutting down (grace %.1fs)", name, grace)
    await stop(grace)
