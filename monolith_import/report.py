"""What an import found and did: counts per table, per problem and per outcome, and one line for every row that
was not imported exactly as it is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

TABLES = ("users", "cigars")
# every way a row can end, in the order the summary lists them
OUTCOMES = {
    "imported": "imported",
    "already_imported": "already imported by an earlier run (left as they are now)",
    "merged": "merged into the user who keeps their email (--merge-duplicate-emails)",
    "would_import": "would be imported",
    "would_merge": "would be merged into the user who keeps their email",
    "blocked": "have a problem: with --on-invalid=report nothing is written",
    "cannot_be_fixed": "left out: a problem that cannot be fixed",
    "skipped": "left out: a problem (--on-invalid=skip)",
    "owner_not_imported": "left out: their owner is not imported",
    "id_taken": "left out: the id is taken in the new system",
    "username_taken": "left out: the username is taken in the new system",
    "email_taken": "left out: the email is taken in the new system",
    "owner_deleted": "left out: the owner deleted their account in the new system",
    "merge_target_missing": "left out: the user to merge into is not imported",
}
WRITTEN = ("imported", "merged")


class ProblemLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def fix(self) -> str | None: ...


@dataclass
class Report:
    source: str
    settings: list[str]
    totals: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    problems: Counter[tuple[str, str]] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)
    details: list[tuple[int, int, str]] = field(default_factory=list)  # (table, row id, line), sorted to print
    notices: list[str] = field(default_factory=list)
    _found: dict[tuple[str, int], str] = field(default_factory=dict)

    def found(self, table: str, row_id: int, problems: Sequence[ProblemLike], fixing: bool) -> None:
        """A row's problems, counted; the row's line (written when it ends) names them and, with `fixing`, what
        each fix stores."""
        self.problems.update((table, p.kind) for p in problems)
        self._found[table, row_id] = "; ".join(
            f"{p.kind} ({p.detail}{f': {p.fix}' if fixing and p.fix else ''})" for p in problems
        )

    def ended(self, table: str, outcome: str, row_id: int | None = None, why: str = "") -> None:
        """How a row ended; a line for it unless it was simply imported (or already was) as it is."""
        self.outcomes[table, outcome] += 1
        problems = self._found.pop((table, row_id), None) if row_id is not None else None
        if row_id is None or (problems is None and outcome in (*WRITTEN, "already_imported", "would_import")):
            return
        label = "fixed, then " + OUTCOMES[outcome] if problems and outcome in (*WRITTEN, "would_import") else (
            OUTCOMES[outcome])  # fmt: skip
        line = f"{table[:-1]} {row_id}: {problems + ' -> ' if problems else ''}{label}{f' ({why})' if why else ''}"
        self.details.append((TABLES.index(table), row_id, line))

    def written(self, table: str) -> int:
        return sum(self.outcomes[table, o] for o in WRITTEN)

    def render(self, details: bool = True) -> str:
        lines = [f"Import from {self.source}", *(f"  {s}" for s in self.settings), ""]
        for table in TABLES:
            lines.append(f"{table}: {self.totals[table]:,} in the monolith")
            for outcome, label in OUTCOMES.items():
                if count := self.outcomes[table, outcome]:
                    fixed = self.fixed[table] if outcome == "imported" else 0
                    fixed_note = f" (fixed first: {fixed:,})" if fixed else ""
                    lines.append(f"  {count:>9,}  {label}{fixed_note}")
            kinds = sorted((kind, n) for (t, kind), n in self.problems.items() if t == table)
            if kinds:
                lines.append("  problems found (a row may have several):")
                lines += [f"  {n:>9,}  {kind}" for kind, n in kinds]
            lines.append("")
        if self.notices:
            lines += ["notices:", *(f"  {n}" for n in self.notices), ""]
        if details and self.details:
            lines += ["rows not imported exactly as they are:", *(f"  {d[2]}" for d in sorted(self.details)), ""]
        return "\n".join(lines)
