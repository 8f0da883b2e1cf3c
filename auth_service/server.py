"""Composition root of auth_service: builds every part from Settings and runs the gRPC server."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.ext.asyncio import AsyncEngine

from .collection_client import GrpcCigarDirectory
from .db.engine import create_engine, session_factory
from .db.repository import SqlUnitOfWork
from .errors import ErrorInterceptor
from .keyring import load_key_ring
from .login import TokenService
from .metrics import Metrics, ObservabilityInterceptor
from .passwords import PasswordHasher
from .servicer import AuthServicer
from .services import AuthService
from .settings import Settings
from .telemetry import ForwardRequestId
from .throttle import Throttle, ThrottlePolicy
from .tokens import TokenIssuer, TokenVerifier

log = logging.getLogger(__name__)
SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


def utc_now() -> datetime:
    return datetime.now(UTC)


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    prefix = "throttle_"
    fields = {k.removeprefix(prefix): v for k, v in settings.model_dump().items() if k.startswith(prefix)}
    return ThrottlePolicy(**fields)


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    engine: AsyncEngine
    channel: grpc.aio.Channel
    hasher: PasswordHasher
    metrics: Metrics

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING so the gateway stops routing here, let in-flight calls finish, then close."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.channel.close()
        await self.engine.dispose()
        self.hasher.close()
        self.metrics.close()


async def start(settings: Settings, clock: Callable[[], datetime] = utc_now) -> RunningServer:
    ring = load_key_ring(settings.private_key_file, clock(), settings.retired_key_retention)
    key = ring.current
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    hasher = PasswordHasher(workers=settings.hash_workers)
    channel = grpc.aio.insecure_channel(settings.collection_service_addr, interceptors=[ForwardRequestId()])
    uow = lambda: SqlUnitOfWork(sessions)  # noqa: E731
    issuer = TokenIssuer(
        key, settings.issuer, settings.audience, timedelta(minutes=settings.access_token_expire_minutes), clock
    )
    tokens = TokenService(uow, hasher, issuer, Throttle(throttle_policy(settings)), clock)
    service = AuthService(
        uow=uow,
        hasher=hasher,
        verifier=TokenVerifier(ring.published, settings.issuer, settings.audience, clock),
        cigars=GrpcCigarDirectory(channel, settings.rpc_timeout_seconds),
    )

    metrics = Metrics(engine)
    server = grpc.aio.server(interceptors=[ObservabilityInterceptor(metrics), ErrorInterceptor()])
    auth_pb2_grpc.add_AuthServiceServicer_to_server(
        AuthServicer(service, tokens, ring.jwks(), settings.trusted_proxies), server
    )
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
    log.info("auth_service listening on %s:%d (signing key %s, %d published)", settings.host, port, key.kid,
             len(ring.published))  # fmt: skip
    return RunningServer(server, port, health_servicer, engine, channel, hasher, metrics)


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
