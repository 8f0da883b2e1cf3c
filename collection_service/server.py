"""The composition root of collection_service: builds every part from Settings, wires them, and runs the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from cigar.collection.v1 import collection_pb2, collection_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from service_kit.db.driver import Driver, open_driver
from service_kit.db.engine import create_engine, engine_pool_state, session_factory
from service_kit.server import GrpcServer, serve_until_signalled, start_grpc
from service_kit.telemetry import Telemetry, telemetry
from service_kit.tokens import JwtVerifier

from .adapters.db.accounts import SqlAccounts
from .adapters.db.cigars import SqlCigarStore
from .adapters.db.own_imports import SqlOwnCigarImport
from .adapters.db.revocations import SqlRevocations
from .adapters.jwks import JwksCache, grpc_fetcher
from .api.errors import error_interceptor
from .api.servicer import CollectionServicer
from .app.accounts import AccountEvents
from .app.authentication import Authenticator, Revocations
from .app.cigars import Cigars
from .app.exchange import CigarExchange
from .ports import DeletedAccounts, OwnCigarImport
from .settings import Settings

log = logging.getLogger(__name__)
NAME = "collection_service"
SERVICE = collection_pb2.DESCRIPTOR.services_by_name["CollectionService"].full_name
# never write: the shield lets them stop when their caller goes
READS = ("ListCigars", "GetCigar", "ListMyCigars", "ExportMyCigars")
# gRPC's reconnect backoff grows to 120 s by default: after a long auth_service outage the first
# key fetch could wait that long. Capped, keys are fetched within seconds of auth_service's return.
AUTH_CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 500), ("grpc.max_reconnect_backoff_ms", 2000)]
SESSION_POOL_SIZE = 2  # only the rare multi-statement transactions (account deletion, file imports), start-up checks
STATEMENT_POOL_SIZE = 10  # every cigar call is one statement on the driver


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunningServer:
    server: GrpcServer
    engine: AsyncEngine
    driver: Driver
    channel: grpc.aio.Channel
    jwks: JwksCache
    background: list[asyncio.Task[None]]
    telemetry: Telemetry

    @property
    def port(self) -> int:
        return self.server.port

    async def stop(self, grace: float) -> None:
        for task in self.background:
            task.cancel()
        await self.server.stop(grace)
        await self.channel.close()
        await self.driver.close()
        await self.engine.dispose()
        self.server.close()
        await self.telemetry.shutdown()


async def start(settings: Settings, clock: Callable[[], datetime] = utc_now) -> RunningServer:
    traces = telemetry(settings, NAME)
    engine = traces.engine(create_engine(settings.database_url, SESSION_POOL_SIZE))
    driver = traces.driver(open_driver(settings.database_url, STATEMENT_POOL_SIZE), settings.database_url)
    sessions = session_factory(engine)

    def accounts() -> DeletedAccounts:
        return SqlAccounts(sessions)

    def own_imports() -> OwnCigarImport:
        return SqlOwnCigarImport(sessions)

    channel = grpc.aio.insecure_channel(
        settings.auth_service_addr,
        options=AUTH_CHANNEL_OPTIONS,
        interceptors=traces.client_interceptors(settings.auth_service_addr),
    )
    jwks = JwksCache(grpc_fetcher(channel, settings.rpc_timeout_seconds), settings.jwks_min_refresh_seconds)
    revocations = Revocations(SqlRevocations(driver))
    access = Authenticator(JwtVerifier(jwks, settings.issuer, settings.audience, clock), revocations)
    # Account events take auth_service's account tokens only (their own audience), never an access token.
    account_tokens = JwtVerifier(jwks, settings.issuer, settings.deletion_audience, clock)
    store = SqlCigarStore(driver)
    servicer = CollectionServicer(
        Cigars(store, access),
        AccountEvents(account_tokens, accounts, revocations),
        CigarExchange(store, own_imports, access),
    )
    pools = {"statements": driver.pool_state, "sessions": lambda: engine_pool_state(engine)}
    server = await start_grpc(
        settings, SERVICE, lambda s: collection_pb2_grpc.add_CollectionServiceServicer_to_server(servicer, s),
        error_interceptor(), READS, pools, traces,
    )  # fmt: skip
    # Public reads never need auth_service, so serve at once and fetch the keys in the background;
    # a token that arrives first triggers its own (rate-limited) fetch.
    # Revocations other processes record reach this one within revocation_refresh_seconds.
    background = [
        asyncio.create_task(jwks.keep_fresh(settings.jwks_refresh_seconds)),
        asyncio.create_task(revocations.keep_fresh(settings.revocation_refresh_seconds)),
    ]
    log.info("collection_service listening on %s:%d", settings.host, server.port)
    return RunningServer(server, engine, driver, channel, jwks, background, traces)


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    running = await start(settings)
    await serve_until_signalled(NAME, running.stop, settings.shutdown_grace_seconds)
