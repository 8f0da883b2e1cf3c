"""What the services write to disk is theirs alone: SQLite files (with WAL and SHM) and keys are 0600, the key
directory 0700, and a private key other users may read is refused at start-up."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auth_service.adapters.keys import KeyFileError, create_key_file, key_file_exposure
from scripts.stack import wait_grpc_serving
from service_kit.db.engine import create_engine
from tests.conftest import GATEWAY_TEST_SECRET, free_port, migrate, run_migrations

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask (022): files are created world-readable unless the code says otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("service", ["auth", "collection"])
async def test_sqlite_database_files_and_their_wal_and_shm_are_created_0600(
    service: str, tmp_path: Path, loose_umask: None
) -> None:
    database = tmp_path / "var" / f"{service}.db"
    url = f"sqlite+aiosqlite:///{database}"
    await migrate(service, url)
    engine = create_engine(url)
    async with engine.connect() as connection:  # WAL mode: the -wal and -shm files exist while it is open
        await connection.exec_driver_sql("SELECT 1")
        files = [database, database.with_name(f"{database.name}-wal"), database.with_name(f"{database.name}-shm")]
        assert {f.name: oct(mode(f)) for f in files} == {f.name: oct(0o600) for f in files}
    await engine.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path, loose_umask: None) -> None:
    database = tmp_path / "collection.db"
    database.touch(mode=0o644)
    run_migrations("collection", f"sqlite+aiosqlite:///{database}")
    assert mode(database) == 0o600


def test_genkey_makes_a_0600_key_in_a_0700_directory(tmp_path: Path, loose_umask: None) -> None:
    key = tmp_path / "var" / "keys" / "auth_ed25519.pem"
    create_key_file(key)
    assert (mode(key), mode(key.parent)) == (0o600, 0o700)


def test_a_key_only_its_owner_reads_is_fine_and_one_others_can_read_is_refused() -> None:
    assert key_file_exposure(0o600, owned_by_me=True, group_is_mine=True) is None
    assert key_file_exposure(0o400, owned_by_me=True, group_is_mine=False) is None
    for loose in (0o644, 0o604, 0o606, 0o444):
        with pytest.raises(KeyFileError, match="other users"):
            key_file_exposure(loose, owned_by_me=True, group_is_mine=True)


def test_a_group_readable_key_is_fine_as_a_kubernetes_secret_and_warned_about_otherwise() -> None:
    # Kubernetes mounts the Secret 0440, owned by root, group = the pod's fsGroup: the group is how we read it.
    assert key_file_exposure(0o440, owned_by_me=False, group_is_mine=True) is None
    warning = key_file_exposure(0o640, owned_by_me=True, group_is_mine=True)
    assert warning and "group" in warning and "chmod 600" in warning


def start_auth(tmp_path: Path, key: Path, port: int = 0) -> subprocess.Popen[bytes]:
    url = f"sqlite+aiosqlite:///{tmp_path}/auth.db"
    run_migrations("auth", url)
    secret = tmp_path / "gateway.secret"
    secret.write_text(GATEWAY_TEST_SECRET)  # as deployed: no warning about a missing one
    env = {**os.environ, "AUTH_PRIVATE_KEY_FILE": str(key), "AUTH_DATABASE_URL": url, "AUTH_PORT": str(port),
           "AUTH_GATEWAY_SECRET_FILE": str(secret)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "auth_service"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_auth_service_refuses_a_key_other_users_can_read_in_one_line(tmp_path: Path) -> None:
    key = tmp_path / "auth_ed25519.pem"
    create_key_file(key)
    key.chmod(0o644)
    proc = start_auth(tmp_path, key)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    [line] = err.decode().strip().splitlines()
    assert "AUTH_PRIVATE_KEY_FILE" in line and "other users" in line and "chmod 600" in line


def test_auth_service_starts_with_a_group_readable_key_and_one_warning_line(tmp_path: Path) -> None:
    key = tmp_path / "auth_ed25519.pem"
    create_key_file(key)
    key.chmod(0o640)
    port = free_port()
    proc = start_auth(tmp_path, key, port)
    try:
        wait_grpc_serving(port, proc)
    finally:
        proc.terminate()
    _, err = proc.communicate(timeout=30)
    warnings = [line for line in err.decode().splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "group" in warnings[0] and str(key) in warnings[0], err
