"""The build artefacts stay honest: generated code fresh, protos lint-clean, Envoy config loadable,
each service's alembic history upgrades and downgrades and matches its models."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gateway.render import DEFAULTS, GatewayConfigError, render
from tests.conftest import BACKENDS, GATEWAY_TEST_SECRET, Databases, database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_generated_stubs_and_descriptor_set_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/gen_protos.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_pass_buf_lint() -> None:
    result = subprocess.run([str(BIN / "buf"), "lint"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rendered_envoy_config_passes_envoy_validate(tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(render({}, secret=GATEWAY_TEST_SECRET))
    result = subprocess.run(
        [str(BIN / "envoy"), "--mode", "validate", "-c", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # a deprecated field works today and stops loading in a later Envoy: none, so an upgrade finds nothing to fix
    assert "Deprecated field" not in result.stdout + result.stderr, result.stderr[-3000:]


def test_render_fills_every_placeholder_from_the_environment() -> None:
    text = render(
        {"GATEWAY_PORT": "18000", "AUTH_HOST": "auth.internal", "COLLECTION_PORT": "15052"}, secret=GATEWAY_TEST_SECRET
    )
    assert "${" not in text
    assert "port_value: 18000" in text and "address: auth.internal" in text and "port_value: 15052" in text
    for key in DEFAULTS:
        assert "${" + key + "}" not in text


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("service", ["auth", "collection"])
async def test_migrations_upgrade_downgrade_and_match_the_models(
    backend: str, service: str, tmp_path: Path, pg_databases: Databases
) -> None:
    url = await database_url(backend, service, tmp_path, pg_databases)
    package = f"{service}_service"
    code = f"""
import sys
from alembic import command
from service_kit.db.migrate import alembic_config
from {package}.adapters.db import MIGRATIONS
cfg = alembic_config(MIGRATIONS, {url!r})
command.upgrade(cfg, "head")
command.check(cfg)          # raises if the models and the migrations drifted apart
command.downgrade(cfg, "base")
command.upgrade(cfg, "head")
"""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()[-3000:]


def test_the_gateway_will_not_render_without_a_real_secret(tmp_path: Path) -> None:
    """Without the secret auth_service could not tell Envoy's client addresses from anyone's: no config at all."""
    with pytest.raises(GatewayConfigError, match="GATEWAY_SECRET_FILE: not set"):
        render({})
    short = tmp_path / "short.secret"
    short.write_text("short\n")
    with pytest.raises(GatewayConfigError, match=str(short)):
        render({"GATEWAY_SECRET_FILE": str(short)})
    good = tmp_path / "gateway.secret"
    good.write_text("a1" * 20 + "\n")
    config = yaml.safe_load(render({"GATEWAY_SECRET_FILE": str(good)}))
    [listener] = config["static_resources"]["listeners"]
    [vhost] = listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"]
    vouched = {r["route"]["cluster"] for r in vhost["routes"] if "request_headers_to_add" in r}
    assert vouched == {"auth_service"}  # the secret goes to auth_service only
    headers = {h["header"]["key"]: h["header"]["value"] for h in vhost["routes"][0]["request_headers_to_add"]}
    assert headers == {"x-cigar-client-address": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
                       "x-cigar-gateway-secret": "a1" * 20}  # fmt: skip


# Run as a script (alembic's env.py calls asyncio.run): rows written before the migration, read after it.
CIGAR_ID_SCRIPT = """
import asyncio, sys
import sqlalchemy as sa
from alembic import command
from service_kit.db.engine import create_engine
from service_kit.db.migrate import alembic_config
from collection_service.adapters.db import MIGRATIONS
url = sys.argv[1]
cfg = alembic_config(MIGRATIONS, url)
INSERT = "INSERT INTO cigars (name, brand, origin, flavor_notes, rating, owner_id) VALUES (:n, 'b', 'o', '', 3, 7)"

async def run(*statements):
    engine = create_engine(url)
    async with engine.begin() as conn:
        for statement, params in statements:
            await conn.execute(sa.text(statement), params)
        rows = (await conn.execute(sa.text("SELECT id, name FROM cigars ORDER BY id"))).all()
    await engine.dispose()
    return [tuple(row) for row in rows]

command.upgrade(cfg, "0003")
delete = "DELETE FROM cigars WHERE name = :n"
asyncio.run(run((INSERT, {"n": "one"}), (INSERT, {"n": "two"}), (INSERT, {"n": "three"}), (delete, {"n": "two"})))
command.upgrade(cfg, "head")
rows = asyncio.run(run())
assert rows == [(1, "one"), (3, "three")], rows
rows = asyncio.run(run((delete, {"n": "three"}), (INSERT, {"n": "four"})))
assert rows == [(1, "one"), (4, "four")], rows
command.check(cfg)
command.downgrade(cfg, "0003")
assert asyncio.run(run()) == [(1, "one"), (4, "four")]
"""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_cigar_id_migration_keeps_every_cigar_and_ids_are_never_reused_after_it(
    backend: str, tmp_path: Path, pg_databases: Databases
) -> None:
    url = await database_url(backend, "collection", tmp_path, pg_databases)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CIGAR_ID_SCRIPT, url, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()[-3000:]


# Accounts registered before migration 0006 that share a mailbox in another letter case (run as a script, like
# the one above: alembic's env.py calls asyncio.run).
EMAIL_CASE_SCRIPT = """
import asyncio, sys
import sqlalchemy as sa
from alembic import command
from service_kit.db.engine import create_engine
from service_kit.db.migrate import alembic_config
from auth_service.adapters.db import MIGRATIONS
url = sys.argv[1]
command.upgrade(alembic_config(MIGRATIONS, url), "0005")
INSERT = "INSERT INTO users (username, username_key, email, hashed_password) VALUES (:u, :u, :e, 'h')"

async def run():
    engine = create_engine(url)
    async with engine.begin() as conn:
        for name, email in [("ann", "ann@example.com"), ("bob", "bob@example.com"), ("bobby", "Bob@Example.com")]:
            await conn.execute(sa.text(INSERT), {"u": name, "e": email})
    await engine.dispose()

asyncio.run(run())
"""
GIVE_BOBBY_HIS_OWN_EMAIL = """
import asyncio, sys
import sqlalchemy as sa
from service_kit.db.engine import create_engine

async def run():
    engine = create_engine(sys.argv[1])
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE users SET email = 'bobby@example.com' WHERE id = 3"))
    await engine.dispose()

asyncio.run(run())
"""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrating_accounts_that_share_a_mailbox_in_another_case_is_refused_in_one_line_and_changes_nothing(
    backend: str, tmp_path: Path, pg_databases: Databases
) -> None:
    url = await database_url(backend, "auth", tmp_path, pg_databases)

    async def run(*args: str) -> tuple[int, str]:
        env = {"PATH": str(BIN), "AUTH_DATABASE_URL": url, "AUTH_LOG_LEVEL": "WARNING"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode is not None
        return proc.returncode, (out + err).decode()

    code, output = await run("-c", EMAIL_CASE_SCRIPT, url)
    assert code == 0, output[-3000:]
    code, output = await run("-m", "auth_service", "migrate")
    assert code == 2, output[-3000:]
    [line] = output.strip().splitlines()
    assert line.startswith("auth_service: AUTH_DATABASE_URL: 1 email address(es) belong to several accounts")
    assert "(user ids 2, 3)" in line and "Example.com" not in line  # ids to act on; no addresses in logs
    code, output = await run("-m", "auth_service", "check")
    assert code != 0 and "0005" in output  # still at the revision before: nothing half done

    assert (await run("-c", GIVE_BOBBY_HIS_OWN_EMAIL, url))[0] == 0
    code, output = await run("-m", "auth_service", "migrate")
    assert code == 0, output[-3000:]
    code, output = await run("-m", "auth_service", "check")
    assert code == 0 and "database ready" in output, output
