"""Composition root of auth_service: builds every part from Settings and runs the gRPC server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.ext.asyncio import AsyncEngine

from .bootstrap import build
from .channels import SpreadChannel
from .db.driver import Driver, open_driver
from .db.engine import create_engine, session_factory
from .errors import ErrorInterceptor
from .mailer import EmailSender
from .metrics import Metrics, ObservabilityInterceptor
from .passwords import PasswordHasher
from .rpc import Chain
from .servicer import AuthServicer
from .settings import Settings
from .shield import ShieldInterceptor
from .telemetry import ForwardRequestId

log = logging.getLogger(__name__)
SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
# Methods that never write: a call cut short by its client may simply stop (shield.py)
READS = [f"/{SERVICE_NAME}/{name}" for name in ("GetMe", "GetJwks")]
# Connections to collection_service, so that GetMe reaches all of its worker processes (channels.py).
COLLECTION_CONNECTIONS = 4


# After the peer restarts, calls fail fast (UNAVAILABLE) until the channel reconnects; gRPC's default
# backoff grows to 120 s, so cap it at 1 s to be usable again about a second after the peer is.
PEER_CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 1000)]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    engine: AsyncEngine
    driver: Driver
    channel: SpreadChannel
    hasher: PasswordHasher
    metrics: Metrics
    drainer: asyncio.Task[None]

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING so the gateway stops routing here, let in-flight calls finish, then close."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.drainer.cancel()  # what is left stays in the outbox for the next start
        await self.channel.close()
        await self.driver.close()
        await self.engine.dispose()
        self.hasher.close()
        self.metrics.close()


async def start(
    settings: Settings, clock: Callable[[], datetime] = utc_now, sender: EmailSender | None = None
) -> RunningServer:
    engine = create_engine(settings.database_url)  # the use cases' units of work
    driver = open_driver(settings.database_url)  # GET /users/me/'s user lookup, one statement
    sessions = session_factory(engine)
    # argon2 releases the GIL: one hashing thread per core, shared out among the worker processes.
    hash_workers = settings.hash_workers or max(1, (os.cpu_count() or 1) // settings.workers)
    hasher = PasswordHasher(workers=hash_workers)
    channel = SpreadChannel(
        settings.collection_service_addr, COLLECTION_CONNECTIONS, [ForwardRequestId()], PEER_CHANNEL_OPTIONS
    )
    cases = build(settings, sessions, driver, hasher, channel, clock, sender)

    metrics = Metrics(engine)
    # so_reuseport: several worker processes (Settings.workers) serve one port; the kernel spreads connections.
    server = grpc.aio.server(
        interceptors=[Chain(ObservabilityInterceptor(metrics), ErrorInterceptor(), ShieldInterceptor(READS))],
        options=[("grpc.so_reuseport", 1)],
    )
    servicer = AuthServicer(
        cases.auth, cases.tokens, cases.profiles, cases.verifier, cases.ring.jwks(), settings.trusted_proxies
    )
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
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
    drainer = asyncio.create_task(cases.drainer.run())  # account deletions that still need collection_service
    log.info("auth_service listening on %s:%d (signing key %s, %d published)", settings.host, port,
             cases.ring.current.kid, len(cases.ring.published))  # fmt: skip
    return RunningServer(server, port, health_servicer, engine, driver, channel, hasher, metrics, drainer)


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    running = await start(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("auth_service shutting down (grace %.1fs)", settings.shutdown_grace_seconds)
    await running.stop(settings.shutdown_grace_seconds)
