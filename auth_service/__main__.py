"""Entrypoint: `python -m auth_service [serve|migrate|check|health|genkey|rotate-key]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

from .keys import KeyFileError, create_key_file
from .settings import Settings
from .telemetry import configure_logging

NAME = "auth_service"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=NAME, description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="check the database and the key, then run the gRPC server (default)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    check = sub.add_parser("check", help="exit 0 once the database is reachable and migrated (an init step)")
    check.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="keep retrying this long")
    sub.add_parser("health", help="exit 0 if the local server reports SERVING (a container health check)")
    genkey = sub.add_parser("genkey", help="write a new Ed25519 private key (mode 0600)")
    genkey.add_argument("path", type=Path, nargs="?", help="default: AUTH_PRIVATE_KEY_FILE")
    genkey.add_argument("--if-missing", action="store_true", help="do nothing if the file exists")
    rotate_cmd = sub.add_parser("rotate-key", help="retire the signing key and sign with a new one (README)")
    rotate_cmd.add_argument("--prepare", action="store_true", help="only create and publish the next key")
    return parser.parse_args(argv)


def fail(setting: str, problem: object) -> int:
    """One readable line naming the setting at fault: what an operator reads in `docker logs`."""
    print(f"{NAME}: {setting}: {problem}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        errors = "; ".join(f"AUTH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"{NAME}: invalid settings: {errors}", file=sys.stderr)
        return 2
    if args.command == "health":
        # First and light (no database or alembic imports): a container runs it every few seconds.
        from .probe import serving

        ok, status = serving(settings.host, settings.port)
        print(f"{NAME}: {status}")
        return 0 if ok else 1
    from .db.check import DatabaseNotReady

    if args.command == "migrate":
        # Imported before logging is configured: alembic logs its plugin set-up at import, noise before one
        # error line. Only migrate needs alembic; the server reads the head revision without it (db/revisions.py).
        from .db import migrate  # noqa: F401

    configure_logging(settings.log_level, settings.log_format)

    try:
        return run(args, settings)
    except DatabaseNotReady as exc:
        return fail("AUTH_DATABASE_URL", exc)
    except KeyFileError as exc:
        return fail("AUTH_PRIVATE_KEY_FILE", exc)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from .db.check import check_database

    if args.command == "migrate":
        from .db.migrate import upgrade

        asyncio.run(check_database(settings.database_url, require_head=False))
        upgrade(settings.database_url)
        return 0
    if args.command == "check":
        revision = asyncio.run(check_database(settings.database_url, require_head=True, wait=args.wait))
        print(f"{NAME}: database ready at revision {revision}")
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

    from .keys import load_signing_key
    from .server import serve  # imported before any fork: the workers share these pages

    # Fail before binding the port: a server that cannot sign or store anything must not look healthy.
    load_signing_key(settings.private_key_file)
    asyncio.run(check_database(settings.database_url, require_head=True))
    if settings.workers > 1:
        from .workers import run_workers, worker_settings

        return run_workers(settings.workers, lambda index: serve(worker_settings(settings, index)))
    asyncio.run(serve(settings))
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
