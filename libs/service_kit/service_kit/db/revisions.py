"""The newest revision of an alembic history, read from its migration files without importing alembic: a
server compares it with the database's at start-up, and alembic would then stay in the serving process's
memory for nothing (~9 MB)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any


def _assigned(tree: ast.Module, name: str) -> Any:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return ast.literal_eval(node.value) if node.value is not None else None
    return None


def head_revision(versions: Path) -> str:
    """The one revision in the folder `versions` that no other revision builds on (alembic's head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        revisions.add(_assigned(tree, "revision"))
        down = _assigned(tree, "down_revision")
        parents.update(down if isinstance(down, tuple | list) else [down])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migration history in {versions} has {len(heads)} heads: {sorted(heads)}")
    return heads.pop()
