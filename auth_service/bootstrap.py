"""Builds auth_service's use cases from Settings (server.py adds the gRPC server around them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
from sqlalchemy.ext.asyncio import async_sessionmaker

from .collection_client import GrpcAccountCleaner, GrpcCigarDirectory
from .db.driver import Driver
from .db.repository import SqlUnitOfWork, SqlUserLookup
from .keyring import KeyRing, load_key_ring
from .login import TokenService
from .mailer import EmailSender, LogSender, SmtpSender
from .outbox import OutboxDrainer
from .passwords import PasswordHasher
from .profile import ProfileService
from .services import AuthService
from .settings import Settings
from .throttle import Throttle, ThrottlePolicy
from .tokens import TokenIssuer, TokenVerifier
from .verification import EmailVerifier


@dataclass
class UseCases:
    ring: KeyRing
    auth: AuthService
    tokens: TokenService
    profiles: ProfileService
    verifier: EmailVerifier
    drainer: OutboxDrainer


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    prefix = "throttle_"
    fields = {k.removeprefix(prefix): v for k, v in settings.model_dump().items() if k.startswith(prefix)}
    return ThrottlePolicy(**fields)


def email_sender(settings: Settings) -> EmailSender:
    if settings.email_sender == "log":
        return LogSender()
    return SmtpSender(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from, username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(), starttls=settings.smtp_starttls,
    )  # fmt: skip


def build(
    settings: Settings,
    sessions: async_sessionmaker,
    driver: Driver,
    hasher: PasswordHasher,
    channel: grpc.aio.Channel,
    clock: Callable[[], datetime],
    sender: EmailSender | None = None,
) -> UseCases:
    ring = load_key_ring(settings.private_key_file, clock(), settings.retired_key_retention)
    uow = lambda: SqlUnitOfWork(sessions)  # noqa: E731
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    issuer = TokenIssuer(ring.current, settings.issuer, settings.audience, lifetime, clock)
    verifier = TokenVerifier(ring.published, settings.issuer, settings.audience, clock)
    emails = EmailVerifier(
        uow, sender or email_sender(settings), clock, timedelta(hours=settings.verification_token_hours),
        settings.verification_link,
    )  # fmt: skip
    cleaner = GrpcAccountCleaner(channel, settings.rpc_timeout_seconds, issuer, settings.deletion_audience)
    drainer = OutboxDrainer(uow, cleaner, clock, settings.outbox_poll_seconds, settings.outbox_max_backoff_seconds)
    throttle = Throttle(throttle_policy(settings))
    return UseCases(
        ring=ring,
        auth=AuthService(
            uow,
            SqlUserLookup(driver),
            hasher,
            verifier,
            GrpcCigarDirectory(channel, settings.rpc_timeout_seconds),
            emails,
        ),  # fmt: skip
        tokens=TokenService(uow, hasher, issuer, throttle, clock, allow_unverified=settings.allow_unverified_login),
        profiles=ProfileService(uow, hasher, verifier, drainer, emails, clock),
        verifier=emails,
        drainer=drainer,
    )
