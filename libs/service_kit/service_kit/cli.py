"""The command line every service shares: `serve` (the default), `migrate`, `check`, `health`, plus the
service's own commands. A bad configuration ends the process with one line naming the setting, never a
traceback: what an operator reads in `docker logs`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from .logs import configure_logging
from .settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class Command(Generic[S]):
    help: str
    run: Callable[[argparse.Namespace, S], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


@dataclass(frozen=True)
class ServiceCli(Generic[S]):
    name: str  # the program name, e.g. "orders_service"
    description: str | None  # for --help
    env_prefix: str  # of its settings, e.g. "ORDERS_"
    settings: Callable[[], S]
    migrations: Path  # its alembic folder (env.py, versions/)
    server: str  # the module whose `async def serve(settings)` runs the server, imported only to serve
    preflight: Callable[[S], None] = lambda settings: None  # what must hold before the port is bound
    setting_errors: Mapping[type[Exception], str] = field(default_factory=dict)  # error -> the setting at fault
    commands: Mapping[str, Command[S]] = field(default_factory=dict)

    def fail(self, setting: str, problem: object) -> int:
        print(f"{self.name}: {setting}: {problem}", file=sys.stderr)
        return 2

    def variable(self, loc: tuple[int | str, ...]) -> str:
        """The environment variable behind a settings error: field names take the prefix, OpenTelemetry's
        own variables (aliases, in capitals) are read as they are."""
        name = "_".join(map(str, loc))
        return name if name.isupper() else f"{self.env_prefix}{name.upper()}"

    def parse_args(self, argv: list[str] | None) -> argparse.Namespace:
        parser = argparse.ArgumentParser(prog=self.name, description=self.description)
        sub = parser.add_subparsers(dest="command")
        sub.add_parser("serve", help="check the database, then run the gRPC server (default)")
        sub.add_parser("migrate", help="upgrade the database to the newest schema")
        check = sub.add_parser("check", help="exit 0 once the database is reachable and migrated (an init step)")
        check.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="keep retrying this long")
        sub.add_parser("health", help="exit 0 if the local server reports SERVING (a container health check)")
        for name, command in self.commands.items():
            command.arguments(sub.add_parser(name, help=command.help))
        return parser.parse_args(argv)

    def main(self, argv: list[str] | None = None) -> int:
        args = self.parse_args(argv)
        try:
            settings = self.settings()
        except ValidationError as exc:
            errors = "; ".join(f"{self.variable(e['loc'])}: {e['msg']}" for e in exc.errors())
            print(f"{self.name}: invalid settings: {errors}", file=sys.stderr)
            return 2
        if args.command == "health":
            # First and light (no database or alembic imports): a container runs it every few seconds.
            from .probe import serving

            ok, status = serving(settings.host, settings.port)
            print(f"{self.name}: {status}")
            return 0 if ok else 1
        from .db.check import DatabaseNotReady, MigrationRefused
        from .ports import PortInUse

        if args.command == "migrate":
            # Imported before logging is configured: alembic logs its plugin set-up at import, noise before one
            # error line. Only migrate needs alembic; the server reads the head revision without it.
            from .db import migrate  # noqa: F401

        configure_logging(self.name, settings.log_level, settings.log_format)
        try:
            return self._run(args, settings)
        except (DatabaseNotReady, MigrationRefused) as exc:
            return self.fail(f"{self.env_prefix}DATABASE_URL", exc)
        except PortInUse as exc:
            return self.fail(f"{self.env_prefix}PORT", exc)
        except Exception as exc:
            for kind, setting in self.setting_errors.items():
                if isinstance(exc, kind):
                    return self.fail(setting, exc)
            raise

    def _run(self, args: argparse.Namespace, settings: S) -> int:
        from .db.check import check_database
        from .db.revisions import head_revision
        from .ports import check_port_free

        if args.command == "migrate":
            from .db.migrate import upgrade

            asyncio.run(check_database(settings.database_url, head=None))
            upgrade(self.migrations, settings.database_url)
            return 0
        head = head_revision(self.migrations / "versions")
        if args.command == "check":
            revision = asyncio.run(check_database(settings.database_url, head=head, wait=args.wait))
            print(f"{self.name}: database ready at revision {revision}")
            return 0
        if args.command in self.commands:
            return self.commands[args.command].run(args, settings)
        # Imported here, not at start-up (health and migrate stay light), and before any fork: the workers
        # share these pages.
        serve: Callable[[S], Coroutine[Any, Any, None]] = importlib.import_module(self.server).serve
        # Fail before binding the port: a server that cannot store anything must not look healthy.
        self.preflight(settings)
        asyncio.run(check_database(settings.database_url, head=head))
        # Last before serving, once for all the workers: they share the port, no one else may (ports.py).
        check_port_free(settings.host, settings.port)
        if settings.workers > 1:
            from .workers import run_workers, worker_settings

            return run_workers(settings.workers, lambda index: serve(worker_settings(settings, index)))
        asyncio.run(serve(settings))
        return 0
