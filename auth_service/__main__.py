"""Entrypoint: `python -m auth_service [serve|migrate|check|health|genkey|rotate-key]`."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from service_kit.cli import Command, ServiceCli

from .adapters.db import MIGRATIONS
from .adapters.keyring import next_key_file
from .adapters.keys import KeyFileError, check_key_file_mode, create_key_file, load_signing_key
from .adapters.mail import LogSenderInProduction, SmtpCaFileError, SmtpLoginWithoutTls, SmtpPasswordFileError
from .api.peer import GatewaySecretError, read_gateway_secret
from .settings import Settings

log = logging.getLogger("auth_service")


def _check_key(settings: Settings) -> None:
    """A server that cannot sign anything must not look healthy: the key is read before the port is bound.
    A key other users may read is refused (it may be stolen already: make a new one); one its group may read
    is started with a warning, as some deployments give the key through a group."""
    for path in (settings.private_key_file, next_key_file(settings.private_key_file)):
        if path == settings.private_key_file or path.exists():
            load_signing_key(path)  # first: a missing file or a placeholder has its own advice
            warning = check_key_file_mode(path)
            if warning:
                log.warning("AUTH_PRIVATE_KEY_FILE: %s", warning)


def _preflight(settings: Settings) -> None:
    """What must hold before the port is bound: a key to sign with, mail that can be sent, the gateway secret."""
    from .server import email_sender  # already imported to serve

    _check_key(settings)
    email_sender(settings)  # the mail settings: production-safe, password file and CAs readable
    read_gateway_secret(settings.gateway_secret_file)  # else every login counts against the gateway's address


def _genkey_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, nargs="?", help="default: AUTH_PRIVATE_KEY_FILE")
    parser.add_argument("--if-missing", action="store_true", help="do nothing if the file exists")


def _genkey(args: argparse.Namespace, settings: Settings) -> int:
    path = args.path or settings.private_key_file
    if args.if_missing and path.exists():
        return 0
    key = create_key_file(path)
    print(f"wrote {path} (key id {key.kid})")
    return 0


def _rotate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prepare", action="store_true", help="only create and publish the next key")


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    from .adapters.keyring import prepare_next_key, rotate

    if args.prepare:
        key = prepare_next_key(settings.private_key_file)
        print(f"next key {key.kid} is published after a restart; run rotate-key to make it sign")
    else:
        key = rotate(settings.private_key_file, datetime.now(UTC), settings.retired_key_retention)
        print(f"now signing with key {key.kid}; restart auth_service (every replica) to apply")
    return 0


CLI = ServiceCli(
    name="auth_service",
    description=__doc__,
    env_prefix="AUTH_",
    settings=Settings,
    migrations=MIGRATIONS,
    server="auth_service.server",
    preflight=_preflight,
    setting_errors={
        KeyFileError: "AUTH_PRIVATE_KEY_FILE",
        GatewaySecretError: "AUTH_GATEWAY_SECRET_FILE",
        LogSenderInProduction: "AUTH_EMAIL_SENDER",
        SmtpPasswordFileError: "AUTH_SMTP_PASSWORD_FILE",
        SmtpCaFileError: "AUTH_SMTP_CA_FILE",
        SmtpLoginWithoutTls: "AUTH_SMTP_TLS",
    },
    commands={
        "genkey": Command("write a new Ed25519 private key (mode 0600)", _genkey, _genkey_arguments),
        "rotate-key": Command(
            "retire the signing key and sign with a new one (docs/security.md)", _rotate, _rotate_arguments
        ),
    },
)


parse_args, main = CLI.parse_args, CLI.main


if __name__ == "__main__":
    sys.exit(main())
