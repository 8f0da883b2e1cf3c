"""The composition root of auth_service: builds every part from Settings, wires them, and runs the server."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cigar.auth.v1 import auth_pb2, auth_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from service_kit.db.driver import Driver, open_driver
from service_kit.db.engine import create_engine, engine_pool_state, session_factory
from service_kit.server import GrpcServer, serve_until_signalled, start_grpc
from service_kit.telemetry import Telemetry, telemetry
from service_kit.tokens import JwtVerifier, StaticKeySet

from .adapters.channels import SpreadChannel
from .adapters.collection import GrpcCigarDirectory, GrpcCollectionAccounts
from .adapters.db.counter_pruning import SqlCounterPruner
from .adapters.db.session_pruning import SqlSessionPruner
from .adapters.db.uow import SqlUnitOfWork
from .adapters.db.users import SqlUserLookup
from .adapters.keyring import KeyRing, load_key_ring
from .adapters.mail import LogSender, LogSenderInProduction, SmtpSender, read_password_file, tls_context
from .adapters.passwords import PasslibHasher
from .adapters.tokens import JwtIssuer
from .api.discovery import authorization_server_metadata
from .api.errors import error_interceptor
from .api.peer import ClientAddresses, read_gateway_secret
from .api.servicer import AuthServicer
from .app.authentication import Authenticator
from .app.counter_pruning import CounterPruning
from .app.logout import Logout
from .app.mail_limits import MailLimits
from .app.outbox import MAIL_PASSWORD_RESET, MAIL_VERIFICATION, OutboxDrainer
from .app.password_check import PasswordCheck
from .app.password_grant import PasswordGrant
from .app.password_reset import PasswordReset
from .app.profile import Profiles
from .app.registration import Registration
from .app.resend import VerificationResend
from .app.session_pruning import SessionPruning
from .app.sessions import SessionPolicy, Sessions
from .app.throttle import Throttle, ThrottlePolicy
from .app.verification import EmailVerification
from .ports import EmailSender, UnitOfWork
from .settings import Settings

log = logging.getLogger(__name__)
NAME = "auth_service"
SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
# methods that never write (the shield lets them stop when their caller goes)
READS = ("GetMe", "GetJwks", "GetAuthorizationServerMetadata")
COLLECTION_CONNECTIONS = 4  # to collection_service, so that GetMe reaches all of its worker processes
# After the peer restarts, calls fail fast (UNAVAILABLE) until the channel reconnects; gRPC's default
# backoff grows to 120 s, so cap it at 1 s to be usable again about a second after the peer is.
# GetMe holds the caller's whole collection in one ListMyCigars reply: gRPC's default 4 MiB cap is about 30,000
# cigars, which one big file import reaches. 64 MiB is about 500,000; ListMyCigars has no cap of its own.
MAX_COLLECTION_REPLY_BYTES = 64 * 1024 * 1024
PEER_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_receive_message_length", MAX_COLLECTION_REPLY_BYTES),
]
SESSION_POOL_SIZE = 10  # the units of work (PostgreSQL connections per process)
STATEMENT_POOL_SIZE = 5  # the user lookup of every authenticated call


def utc_now() -> datetime:
    return datetime.now(UTC)


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    prefix = "throttle_"
    fields = {k.removeprefix(prefix): v for k, v in settings.model_dump().items() if k.startswith(prefix)}
    return ThrottlePolicy(**fields)


def email_sender(settings: Settings) -> EmailSender:
    """The log sender in development only. SMTP with its password file read and its CAs loaded here, so that
    a bad mail setting stops the start-up (the CLI calls this before binding the port) rather than a send."""
    if settings.email_sender == "log":
        if settings.environment == "production":
            raise LogSenderInProduction()
        return LogSender()
    password = read_password_file(settings.smtp_password_file) if settings.smtp_username else ""
    return SmtpSender(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from, tls=settings.smtp_tls,
        context=tls_context(settings.smtp_ca_file), username=settings.smtp_username, password=password,
    )  # fmt: skip


@dataclass
class RunningServer:
    server: GrpcServer
    ring: KeyRing
    engine: AsyncEngine
    driver: Driver
    channel: SpreadChannel
    hasher: PasslibHasher
    drainer: asyncio.Task[None]
    outbox: OutboxDrainer
    pruner: asyncio.Task[None]
    session_pruner: asyncio.Task[None]
    telemetry: Telemetry

    @property
    def port(self) -> int:
        return self.server.port

    async def stop(self, grace: float) -> None:
        await self.server.stop(grace)
        self.drainer.cancel()  # what is left stays in the outbox for the next start
        self.outbox.stop()
        self.pruner.cancel()
        self.session_pruner.cancel()
        await self.channel.close()
        await self.driver.close()
        await self.engine.dispose()
        self.hasher.close()
        self.server.close()
        await self.telemetry.shutdown()


async def start(
    settings: Settings, clock: Callable[[], datetime] = utc_now, sender: EmailSender | None = None
) -> RunningServer:
    traces = telemetry(settings, NAME)
    engine = traces.engine(create_engine(settings.database_url, SESSION_POOL_SIZE))
    driver = traces.driver(open_driver(settings.database_url, STATEMENT_POOL_SIZE), settings.database_url)
    sessions = session_factory(engine)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    # argon2 releases the GIL: one hashing thread per core, shared out among the worker processes.
    hasher = PasslibHasher(workers=settings.hash_workers or max(1, (os.cpu_count() or 1) // settings.workers))
    channel = SpreadChannel(
        settings.collection_service_addr, COLLECTION_CONNECTIONS,
        traces.client_interceptors(settings.collection_service_addr), PEER_CHANNEL_OPTIONS,
    )  # fmt: skip
    ring = load_key_ring(settings.private_key_file, clock(), settings.retired_key_retention)
    issuer = JwtIssuer(ring.current, settings.issuer, settings.audience, settings.access_token_lifetime, clock)
    auth = Authenticator(
        JwtVerifier(StaticKeySet(ring.published), settings.issuer, settings.audience, clock), SqlUserLookup(driver)
    )
    verification_lifetime = timedelta(hours=settings.verification_token_hours)
    mail = sender or email_sender(settings)
    verification = EmailVerification(uow, mail, clock, verification_lifetime, settings.verification_link)
    accounts = GrpcCollectionAccounts(
        channel.as_channel(), settings.rpc_timeout_seconds, issuer, settings.deletion_audience
    )
    drainer = OutboxDrainer(uow, accounts, clock, settings.outbox_poll_seconds, settings.outbox_max_backoff_seconds)
    cigars = GrpcCigarDirectory(channel.as_channel(), settings.rpc_timeout_seconds)
    # One password check for logins and for the changes that need the password: one set of counters.
    passwords = PasswordCheck(uow, hasher, Throttle(throttle_policy(settings)), clock)
    policy = SessionPolicy(timedelta(days=settings.refresh_idle_days), timedelta(days=settings.refresh_absolute_days))
    logins = Sessions(uow, issuer, clock, policy)
    limits = MailLimits(settings.mail_limit_per_account, settings.mail_limit_per_address,
                        timedelta(seconds=settings.mail_limit_window_seconds))  # fmt: skip
    reset = PasswordReset(uow, hasher, mail, drainer, clock, limits, timedelta(minutes=settings.password_reset_minutes),
                          settings.password_reset_link)  # fmt: skip
    drainer.add_mailer(MAIL_PASSWORD_RESET, reset.mail)
    drainer.add_mailer(MAIL_VERIFICATION, verification.mail)
    servicer = AuthServicer(
        Registration(uow, hasher, drainer, clock),
        PasswordGrant(passwords, logins, allow_unverified=settings.allow_unverified_login),
        Profiles(uow, auth, passwords, hasher, cigars, drainer, clock),
        verification,
        ring.jwks(),
        ClientAddresses(read_gateway_secret(settings.gateway_secret_file)),
        logins,
        Logout(uow, auth, logins, drainer, clock),
        authorization_server_metadata(settings.public_url),
        reset,
        VerificationResend(uow, auth, drainer, clock, limits),
    )  # fmt: skip
    pools = {"sessions": lambda: engine_pool_state(engine), "statements": driver.pool_state}
    server = await start_grpc(
        settings, SERVICE, lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, s),
        error_interceptor(), READS, pools, traces,
    )  # fmt: skip
    background = asyncio.create_task(drainer.run())  # account deletions that still need collection_service
    pruning = CounterPruning(
        SqlCounterPruner(sessions), clock, timedelta(seconds=settings.throttle_failure_reset_seconds),
        timedelta(days=settings.known_address_days), settings.counter_prune_seconds,
    )  # fmt: skip
    pruner = asyncio.create_task(pruning.run())
    session_pruner = asyncio.create_task(
        SessionPruning(SqlSessionPruner(sessions), clock, settings.counter_prune_seconds).run()
    )
    log.info("auth_service listening on %s:%d (signing key %s, %d published)", settings.host, server.port,
             ring.current.kid, len(ring.published))  # fmt: skip
    if settings.gateway_secret_file is None:
        log.warning("AUTH_GATEWAY_SECRET_FILE is not set: logins are counted by the caller's own address, which "
                    "behind the gateway is the gateway's, shared by every client")  # fmt: skip
    return RunningServer(
        server, ring, engine, driver, channel, hasher, background, drainer, pruner, session_pruner, traces
    )


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    running = await start(settings)
    await serve_until_signalled(NAME, running.stop, settings.shutdown_grace_seconds)
