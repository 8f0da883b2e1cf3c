"""Entrypoint: `python -m collection_service [serve|migrate]`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from .settings import Settings
from .telemetry import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="collection_service", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the gRPC server (default)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    args = parser.parse_args(argv)

    try:
        settings = Settings()
    except ValidationError as exc:
        errors = "; ".join(f"COLLECTION_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"collection_service: invalid settings: {errors}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)

    if args.command == "migrate":
        from .db.migrate import upgrade

        upgrade(settings.database_url)
        return 0

    from .server import serve

    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
