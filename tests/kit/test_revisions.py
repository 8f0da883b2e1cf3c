"""The head revision of an alembic history, read from its files without alembic."""

from __future__ import annotations

from pathlib import Path

import pytest

from service_kit.db.revisions import head_revision


def test_a_history_with_two_heads_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    assert head_revision(tmp_path) == "b"
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    with pytest.raises(RuntimeError, match="2 heads"):
        head_revision(tmp_path)
