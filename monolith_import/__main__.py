"""`python -m monolith_import --from URL`: import a FastAPI monolith's users and cigars, keeping their ids.

Reads the monolith's database (PostgreSQL or SQLite URL) and writes users into auth_service's database and
cigars into collection_service's (AUTH_DATABASE_URL, COLLECTION_DATABASE_URL, as the services read them),
each through that service's own data layer. Safe to run again; works while the services run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .report import Report
from .run import Options, clean, run_import
from .source import MonolithDatabase, SourceError
from .wiring import TargetError, open_targets

BLOCKED = 3  # --on-invalid=report found rows to decide about: nothing was written


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="monolith_import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="the monolith's database: postgresql://USER:PASSWORD@HOST/DB or sqlite:///PATH",
    )
    parser.add_argument(
        "--on-invalid",
        choices=("report", "fix", "skip"),
        default="report",
        help="rows our rules refuse: report them and write nothing (default), fix what can be "
        "fixed and leave out the rest, or leave them out",
    )
    parser.add_argument("--dry-run", action="store_true", help="check everything, print the report, write nothing")
    parser.add_argument(
        "--merge-duplicate-emails",
        action="store_true",
        help="merge users whose emails differ only in case into the one who keeps the address "
        "(their cigars move to that account); without it they are kept apart",
    )
    parser.add_argument(
        "--email-verified",
        action="store_true",
        help="mark imported emails verified (default: not: the monolith never verified them)",
    )
    parser.add_argument("--batch-size", type=int, default=500, metavar="N", help="rows per transaction (500)")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait between batches, to leave a live system room (0)",
    )
    parser.add_argument("--summary", action="store_true", help="print the counts only, not a line per row")
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.pause < 0:
        parser.error("--batch-size must be 1 or more and --pause 0 or more")
    return args


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def conclusion(report: Report, options: Options) -> tuple[str, int]:
    users, cigars = report.written("users"), report.written("cigars")
    if options.on_invalid == "report" and not clean(report):
        return ("Dry run: nothing was written. " if options.dry_run else "Nothing written: ") + (
            "some rows cannot be imported as they are (listed above). Run again with --on-invalid=fix (fix what "
            "can be fixed, leave out the rest) or --on-invalid=skip (leave them out); rows blocked by users or "
            "cigars of the new system are left out either way."
        ), BLOCKED
    if options.dry_run:
        return "Dry run: nothing was written.", 0
    if users + cigars == 0:
        return "Nothing to import: every row that can be imported was imported by an earlier run.", 0
    return f"Imported {users:,} users and {cigars:,} cigars.", 0


async def _run(args: argparse.Namespace) -> int:
    options = Options(args.on_invalid, args.dry_run, args.merge_duplicate_emails, args.email_verified,
                      args.batch_size, args.pause)  # fmt: skip
    targets = await open_targets()
    try:
        async with MonolithDatabase(args.source) as source:
            report = await run_import(source, targets.users, targets.cigars, options, _progress)
    finally:
        await targets.close()
    if not targets.allow_unverified_login and not options.email_verified:
        report.notices.append(
            "AUTH_ALLOW_UNVERIFIED_LOGIN is false: imported users cannot log in before they "
            "verify their email, and no verification was sent to them; see --email-verified."
        )
    text, status = conclusion(report, options)
    print(report.render(details=not args.summary) + "\n" + text, flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(args))
    except (SourceError, TargetError) as exc:
        print(f"monolith_import: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
