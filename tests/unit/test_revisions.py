"""Each service finds its schema's head revision without alembic (service_kit.db.revisions), so the serving
process never imports alembic; the answer must be alembic's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from auth_service.adapters.db import MIGRATIONS as AUTH_MIGRATIONS
from collection_service.adapters.db import MIGRATIONS as COLLECTION_MIGRATIONS
from scripts.stack import ROOT
from service_kit.db.migrate import alembic_config
from service_kit.db.revisions import head_revision


@pytest.mark.parametrize("migrations", [AUTH_MIGRATIONS, COLLECTION_MIGRATIONS], ids=["auth", "collection"])
def test_the_head_read_from_the_files_is_alembics_head(migrations: Path) -> None:
    alembic_head = ScriptDirectory.from_config(alembic_config(migrations, "sqlite://")).get_current_head()
    assert head_revision(migrations / "versions") == alembic_head


@pytest.mark.parametrize("service", ["auth_service", "collection_service"])
def test_the_serving_process_does_not_import_alembic(service: str) -> None:
    code = (f"import sys, {service}.__main__, {service}.server, service_kit.db.check, service_kit.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
