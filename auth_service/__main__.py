"""Entrypoint: `python -m auth_service [serve|migrate|genkey|rotate-key]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

from .keys import KeyFileError, create_key_file
from .settings import Settings
from .telemetry import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="auth_service", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the gRPC server (default)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    genkey = sub.add_parser("genkey", help="write a new Ed25519 private key (mode 0600)")
    genkey.add_argument("path", type=Path, nargs="?", help="default: AUTH_PRIVATE_KEY_FILE")
    genkey.add_argument("--if-missing", action="store_true", help="do nothing if the file exists")
    rotate_cmd = sub.add_parser("rotate-key", help="retire the signing key and sign with a new one (README)")
    rotate_cmd.add_argument("--prepare", action="store_true", help="only create and publish the next key")
    args = parser.parse_args(argv)

    try:
        settings = Settings()
    except ValidationError as exc:
        errors = "; ".join(f"AUTH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"auth_service: invalid settings: {errors}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)

    if args.command == "migrate":
        from .db.migrate import upgrade

        upgrade(settings.database_url)
        return 0
    if args.command == "genkey":
        path = args.path or settings.private_key_file
        if args.if_missing and path.exists():
            return 0
        key = create_key_file(path)
        print(f"wrote {path} (key id {key.kid})")
        return 0

    if args.command == "rotate-key":
        return _rotate(settings, prepare=args.prepare)

    from .server import serve

    try:
        asyncio.run(serve(settings))
    except KeyFileError as exc:
        print(f"auth_service: AUTH_PRIVATE_KEY_FILE: {exc}", file=sys.stderr)
        return 2
    return 0


def _rotate(settings: Settings, prepare: bool) -> int:
    from datetime import UTC, datetime

    from .keyring import prepare_next_key, rotate

    if prepare:
        key = prepare_next_key(settings.private_key_file)
        print(f"next key {key.kid} is published after a restart; run rotate-key to make it sign")
    else:
        key = rotate(settings.private_key_file, datetime.now(UTC), settings.retired_key_retention)
        print(f"now signing with key {key.kid}; restart auth_service (every replica) to apply")
    return 0


if __name__ == "__main__":
    sys.exit(main())
