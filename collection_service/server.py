"""Composition root of collection_service: builds every part from Settings and runs the gRPC server."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.ext.asyncio import AsyncEngine

from .accounts import AccountDeletion
from .db.accounts import SqlAccounts
from .db.driver import Driver, open_driver
from .db.engine import create_engine, session_factory
from .db.repository import SqlCigarStore
from .errors import ErrorInterceptor
from .jwks import JwksCache, grpc_fetcher
from .metrics import Metrics, ObservabilityInterceptor
from .rpc import Chain
from .servicer import CollectionServicer
from .services import CollectionService
from .settings import Settings
from .shield import ShieldInterceptor
from .telemetry import ForwardRequestId
from .tokens import TokenVerifier

log = logging.getLogger(__name__)
AUTH_CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 500), ("grpc.max_reconnect_backoff_ms", 2000)]
SERVICE_NAME = collection_pb2.DESCRIPTOR.services_by_name["CollectionService"].full_name
# Methods that never write: a call cut short by its client may simply stop (shield.py)
READS = [f"/{SERVICE_NAME}/{name}" for name in ("ListCigars", "GetCigar", "ListMyCigars")]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    engine: AsyncEngine
    driver: Driver
    channel: grpc.aio.Channel
    jwks: JwksCache
    warmup: asyncio.Task[None]
    metrics: Metrics

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING so the gateway stops routing here, let in-flight calls finish, then close."""
        self.warmup.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.channel.close()
        await self.driver.close()
        await self.engine.dispose()
        self.metrics.close()


async def start(settings: Settings, clock: Callable[[], datetime] = utc_now) -> RunningServer:
    engine = create_engine(settings.database_url)  # multi-statement transactions: account deletion
    driver = open_driver(settings.database_url)  # everything else: one statement per call
    sessions = session_factory(engine)
    # gRPC's reconnect backoff grows to 120 s by default: after a long auth_service outage the first
    # key fetch could wait that long. Capped, keys are fetched within seconds of auth_service's return.
    channel = grpc.aio.insecure_channel(
        settings.auth_service_addr, options=AUTH_CHANNEL_OPTIONS, interceptors=[ForwardRequestId()]
    )
    jwks = JwksCache(grpc_fetcher(channel, settings.rpc_timeout_seconds), settings.jwks_min_refresh_seconds)
    verifier = TokenVerifier(jwks, settings.issuer, settings.audience, clock)
    # account deletion (issue 3) needs its own audience; deleted users' tokens are refused by the service
    accounts = lambda: SqlAccounts(sessions)  # noqa: E731
    deletion = AccountDeletion(TokenVerifier(jwks, settings.issuer, settings.deletion_audience, clock), accounts)
    service = CollectionService(cigars=SqlCigarStore(driver), auth=verifier)

    metrics = Metrics(driver.pool_state)
    # so_reuseport: several worker processes (Settings.workers) serve one port; the kernel spreads connections.
    server = grpc.aio.server(
        interceptors=[Chain(ObservabilityInterceptor(metrics), ErrorInterceptor(), ShieldInterceptor(READS))],
        options=[("grpc.so_reuseport", 1)],
    )
    collection_pb2_grpc.add_CollectionServiceServicer_to_server(CollectionServicer(service, deletion), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    await server.start()
    metrics.serve(settings.metrics_host, settings.metrics_port)
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    # Public reads never need auth_service, so start serving at once and fetch the keys in the
    # background; a token that arrives first triggers its own (rate-limited) fetch.
    warmup = asyncio.create_task(jwks.keep_fresh(settings.jwks_refresh_seconds))
    log.info("collection_service listening on %s:%d", settings.host, port)
    return RunningServer(server, port, health_servicer, engine, driver, channel, jwks, warmup, metrics)


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    running = await start(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("collection_service shutting down (grace %.1fs)", settings.shutdown_grace_seconds)
    await running.stop(settings.shutdown_grace_seconds)
