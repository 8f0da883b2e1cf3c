"""Each service finds its schema's head revision without alembic (db/revisions.py), so the serving process
never imports alembic; the answer must be alembic's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from auth_service.db import migrate as auth_migrate
from auth_service.db import revisions as auth_revisions
from collection_service.db import migrate as collection_migrate
from collection_service.db import revisions as collection_revisions
from scripts.stack import ROOT

SERVICES = [(auth_revisions, auth_migrate), (collection_revisions, collection_migrate)]


@pytest.mark.parametrize(("revisions", "migrate"), SERVICES)
def test_the_head_read_from_the_files_is_alembics_head(revisions, migrate) -> None:  # type: ignore[no-untyped-def]
    alembic_head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    assert revisions.head_revision() == alembic_head


@pytest.mark.parametrize("service", ["auth_service", "collection_service"])
def test_the_serving_process_does_not_import_alembic(service: str) -> None:
    code = (f"import sys, {service}.server, {service}.db.check, {service}.db.driver; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_history_with_two_heads_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    assert collection_revisions.head_revision(tmp_path) == "b"
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    with pytest.raises(RuntimeError, match="2 heads"):
        collection_revisions.head_revision(tmp_path)
