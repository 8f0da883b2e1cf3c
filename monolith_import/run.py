"""The import itself: users, then cigars, in batches, highest ids first; each batch is checked against what
is already in the new system (and the ledger of earlier runs), then written in one transaction per service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from auth_service.app.adoption import UserAdoption
from auth_service.app.adoption_rules import review_users
from auth_service.domain import AdoptedUser, UserReview
from collection_service.app.adoption import CigarAdoption
from collection_service.app.adoption_rules import review_cigar
from collection_service.domain import Cigar, MonolithCigar, Problem

from .report import TABLES, ProblemLike, Report
from .source import MonolithDatabase

OnInvalid = Literal["report", "fix", "skip"]
ANONYMOUS_OWNER = 1  # the monolith gave every cigar posted without a token to user 1
WOULD = {"imported": "would_import", "merged": "would_merge"}  # what a checking pass reports instead


@dataclass(frozen=True)
class Options:
    on_invalid: OnInvalid = "report"
    dry_run: bool = False
    merge_emails: bool = False
    email_verified: bool = False
    batch: int = 500
    pause: float = 0.0  # seconds between batches, to leave a live system room


def settings_lines(options: Options, write: bool) -> list[str]:
    return [
        f"on invalid rows: {options.on_invalid}" + ("" if write else " (checking only: nothing is written)"),
        "emails differing only in case: " + ("merged" if options.merge_emails else "kept apart (one keeps it)"),
        f"imported emails are marked {'verified' if options.email_verified else 'not verified'}",
    ]


class Pass:
    """One walk through the monolith, writing (write=True) or only checking what writing would do."""

    def __init__(self, source: MonolithDatabase, users: UserAdoption, cigars: CigarAdoption, options: Options,
                 write: bool, progress: Callable[[str], None]) -> None:  # fmt: skip
        self.source, self.users, self.cigars, self.options = source, users, cigars, options
        self.write = write
        self.progress = progress
        self.report = Report(source.where, settings_lines(options, write))
        self.owners: dict[int, int] = {}  # monolith user id -> the user it is in the new system
        self.why_not: dict[int, str] = {}  # monolith user id -> why it is not there
        self.fixing: set[int] = set()  # the cigars of the page being decided that are written fixed

    async def run(self) -> Report:
        monolith_users = await self.source.users()
        cigar_count, cigar_max = await self.source.cigar_stats()
        self.report.totals.update(users=len(monolith_users), cigars=cigar_count)
        if self.write:  # first: whatever registers meanwhile gets an id above the monolith's
            await self.users.reserve_ids(max((u.id for u in monolith_users), default=0))
            await self.cigars.reserve_ids(cigar_max)
        reviews = review_users(monolith_users, email_verified=self.options.email_verified,
                               merge_emails=self.options.merge_emails)  # fmt: skip
        merges: list[UserReview] = []
        ordered = sorted(reviews, key=lambda r: -r.source.id)
        for start in range(0, len(ordered), self.options.batch):
            merges += await self._users(ordered[start : start + self.options.batch])
            self.progress(f"users: {min(start + self.options.batch, len(ordered)):,} of {len(ordered):,} done")
            await asyncio.sleep(self.options.pause)
        await self._merges(merges)
        await self._cigars({u.id for u in monolith_users}, cigar_count)
        return self.report

    def _decide(self, table: str, row_id: int, problems: Sequence[ProblemLike], fixable: bool) -> bool:
        """Whether a row with problems is written (fixed); if not, how it ends is reported."""
        mode = self.options.on_invalid
        self.report.found(table, row_id, problems, fixing=mode == "fix" and fixable)
        if mode == "fix" and fixable:
            return True
        outcome = {"report": "blocked", "skip": "skipped"}.get(mode, "cannot_be_fixed")
        self.report.ended(table, outcome, row_id)
        return False

    async def _users(self, batch: Sequence[UserReview]) -> list[UserReview]:
        ledger = await self.users.imported([r.source.id for r in batch])
        merges: list[UserReview] = []
        chosen: list[AdoptedUser] = []
        fixed: set[int] = set()
        for review in batch:
            user_id = review.source.id
            if user_id in ledger:
                self.owners[user_id] = ledger[user_id]
                self.report.ended("users", "already_imported")
            elif review.merge_into is not None:
                merges.append(review)
            elif review.fixed is not None and (
                not review.problems or self._decide("users", user_id, review.problems, fixable=True)
            ):
                chosen.append(review.fixed)
                fixed.update([user_id] if review.problems else [])
            else:
                if review.fixed is None:  # a usable password hash is missing: nothing can fix that
                    self._decide("users", user_id, review.problems, fixable=False)
                elif self.options.on_invalid == "report":
                    self.owners[user_id] = user_id  # as if decided, so that its cigars are checked too
                self.why_not.setdefault(user_id, f"user {user_id} is left out")
        outcomes = await self.users.adopt(chosen, self.write)
        for user_id, (outcome, now) in sorted(outcomes.items(), reverse=True):
            self._ended("users", user_id, outcome.value, now)
            self.report.fixed["users"] += user_id in fixed and outcome.value == "imported"
        return merges

    def _ended(self, table: str, row_id: int, outcome: str, now: int | None = None) -> None:
        if not self.write:
            outcome = WOULD.get(outcome, outcome)
        self.report.ended(table, outcome, row_id)
        if table == "users":
            if now is not None:
                self.owners[row_id] = now
            else:
                self.why_not[row_id] = f"user {row_id}: {outcome}"

    async def _merges(self, merges: Sequence[UserReview]) -> None:
        pairs = [(r.source.id, self.owners[r.merge_into]) for r in merges if r.merge_into in self.owners]
        for r in merges:
            if r.merge_into not in self.owners:
                self._ended("users", r.source.id, "merge_target_missing")
        arriving = set() if self.write else set(self.owners.values())
        for start in range(0, len(pairs), self.options.batch):
            outcomes = await self.users.merge(pairs[start : start + self.options.batch], self.write, arriving)
            for user_id, (outcome, now) in outcomes.items():
                self._ended("users", user_id, outcome.value, now)

    async def _cigars(self, monolith_users: set[int], total: int) -> None:
        done = anonymous = 0
        async for page in self.source.cigars(self.options.batch):
            ledger = await self.cigars.imported([c.id for c in page])
            chosen: list[Cigar] = []
            fixed: set[int] = set()
            for cigar in page:
                if cigar.id in ledger:
                    self.report.ended("cigars", "already_imported")
                elif (row := self._cigar(cigar, monolith_users)) is not None:
                    chosen.append(row)
                    fixed.update([cigar.id] if cigar.id in self.fixing else [])
                anonymous += cigar.owner_id == ANONYMOUS_OWNER and ANONYMOUS_OWNER in monolith_users
            for cigar_id, outcome in sorted((await self.cigars.adopt(chosen, self.write)).items(), reverse=True):
                self._ended("cigars", cigar_id, outcome.value)
                self.report.fixed["cigars"] += cigar_id in fixed and outcome.value == "imported"
            self.fixing.clear()
            done += len(page)
            self.progress(f"cigars: {done:,} of {total:,} done, {self.report.written('cigars'):,} written")
            await asyncio.sleep(self.options.pause)
        if anonymous:
            self.report.notices.append(
                f"user {ANONYMOUS_OWNER} owns {anonymous:,} cigars. The monolith gave every cigar posted without a "
                f"token to user {ANONYMOUS_OWNER}; nothing in its database tells those apart, so all are "
                f"imported as user {ANONYMOUS_OWNER}'s, as the monolith showed them."
            )

    def _cigar(self, cigar: MonolithCigar, monolith_users: set[int]) -> Cigar | None:
        review = review_cigar(cigar)
        problems = list(review.problems)
        if cigar.owner_id is None:
            problems.append(Problem("owner_missing", "has no owner", None))
        elif cigar.owner_id not in monolith_users:
            if cigar.owner_id == ANONYMOUS_OWNER:  # no user 1 ever registered, or it was removed by hand
                problems.append(Problem("owner_posted_without_token", "owner 1, which the monolith gave every "
                                        "cigar posted without a token, is not a user", None))  # fmt: skip
            else:
                problems.append(Problem("owner_unknown", f"owner {cigar.owner_id} is not a user of the monolith", None))
        fields = review.fixed
        if problems:
            if not self._decide("cigars", cigar.id, problems, fields is not None and all(p.fix for p in problems)):
                return None
            self.fixing.add(cigar.id)
        owner = self.owners.get(cigar.owner_id or 0)
        if owner is None or fields is None:
            self.report.ended("cigars", "owner_not_imported", cigar.id, self.why_not.get(cigar.owner_id or 0, ""))
            return None
        return Cigar(cigar.id, fields.name, fields.brand, fields.origin, fields.flavor_notes, fields.rating, owner)


def clean(report: Report) -> bool:
    """Every row would be imported as it is (or already was): nothing for the operator to decide."""
    settled = ("would_import", "would_merge", "already_imported", "imported", "merged")
    return all(outcome in settled for (table, outcome) in report.outcomes if table in TABLES)


async def run_import(
    source: MonolithDatabase,
    users: UserAdoption,
    cigars: CigarAdoption,
    options: Options,
    progress: Callable[[str], None],
) -> Report:
    """A dry run only checks. --on-invalid=report checks everything first and writes only if every row can be
    imported as it is; fix and skip write as they go, batch by batch (a killed run is completed by the next)."""
    if options.dry_run:
        return await Pass(source, users, cigars, options, False, progress).run()
    if options.on_invalid == "report":
        checked = await Pass(source, users, cigars, options, False, progress).run()
        if not clean(checked):
            return checked
    return await Pass(source, users, cigars, options, True, progress).run()
