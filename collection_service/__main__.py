"""Entrypoint: `python -m collection_service [serve|migrate|check|health]`."""

from __future__ import annotations

import sys

from service_kit.cli import ServiceCli

from .adapters.db import MIGRATIONS
from .settings import Settings

CLI = ServiceCli(
    name="collection_service",
    description=__doc__,
    env_prefix="COLLECTION_",
    settings=Settings,
    migrations=MIGRATIONS,
    server="collection_service.server",
)


parse_args, main = CLI.parse_args, CLI.main


if __name__ == "__main__":
    sys.exit(main())
