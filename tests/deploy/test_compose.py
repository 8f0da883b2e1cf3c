"""docker-compose.yml stays runnable without Docker here: the spec, Compose's own loader, and our code agree."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path

import compose
import jsonschema
import pytest
import yaml

from tests.deploy.conftest import (
    ROOT,
    SETTINGS,
    assert_command_exists,
    assert_envoy_accepts,
    assert_settings_accept,
    envoy_config,
    listener_port,
    module_of,
    upstreams,
)

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKER_COMPOSE = Path(compose.__file__).parent / "docker-compose"  # the binary; the wrapper drops exit codes
PASSWORDS = ("POSTGRES_PASSWORD", "AUTH_DB_PASSWORD", "COLLECTION_DB_PASSWORD")


def example_variables() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def docker_compose(tmp_path: Path, variables: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in variables.items()))
    command = [str(DOCKER_COMPOSE), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]
    # A clean environment: compose lets the caller's variables override the env file.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([*command, "--env-file", str(env_file), *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The project as Compose itself resolves it from .env.example with the three passwords set."""
    variables = {**example_variables(), **{name: f"pw-{name.lower()}" for name in PASSWORDS}}
    result = docker_compose(tmp_path_factory.mktemp("compose"), variables, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ours(project: dict) -> dict[str, dict]:
    """The services that run our images (everything but postgres)."""
    return {name: svc for name, svc in project["services"].items() if (svc.get("command") or [""])[0] == "python"}


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads((resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(yaml.safe_load(COMPOSE_FILE.read_text()))
    ]
    assert not errors


def test_docker_compose_loads_the_project_from_the_example_env(project: dict) -> None:
    assert set(project["services"]) == {
        "postgres", "auth-migrate", "collection-migrate", "auth", "collection", "gateway"
    }  # fmt: skip


def test_compose_refuses_to_start_until_the_passwords_are_set(tmp_path: Path) -> None:
    result = docker_compose(tmp_path, example_variables(), "config", "--quiet")
    assert result.returncode != 0
    assert re.search(r"required variable \w+_PASSWORD is missing a value: set \w+_PASSWORD in .env", result.stderr)


def test_every_variable_compose_reads_is_documented_in_env_example_and_every_one_there_is_used() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE_FILE.read_text()))
    assert used == set(example_variables())


def test_every_setting_of_every_service_is_documented_in_env_example() -> None:
    documented = ENV_EXAMPLE.read_text()
    missing = {module: sorted(n for n in names if n not in documented) for module, names in SETTINGS.items()}
    assert not any(missing.values()), f"add these to .env.example (and docker-compose.yml if settable): {missing}"


def test_every_command_and_health_check_names_an_entrypoint_that_exists(project: dict) -> None:
    for name, service in ours(project).items():
        assert_command_exists(service["command"])
        if "healthcheck" in service:
            assert service["healthcheck"]["test"][0] == "CMD", name
            assert_command_exists(service["healthcheck"]["test"][1:])


def test_every_environment_variable_is_a_real_setting_of_its_service_with_a_valid_value(
    project: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in ours(project).items():
        module = module_of(service["command"])
        unknown = set(service.get("environment", {})) - SETTINGS[module]
        assert not unknown, f"{name} sets {unknown}, which {module} never reads"
        assert_settings_accept(module, service.get("environment", {}), monkeypatch)


def test_each_service_migrates_first_and_the_gateway_waits_for_healthy_services(project: dict) -> None:
    services = project["services"]
    for name in ("auth", "collection"):
        job = services[f"{name}-migrate"]
        assert job["command"][3:] == ["migrate"] and job["restart"] == "no"
        assert job["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
        url = f"{name.upper()}_DATABASE_URL"
        assert job["environment"][url] == services[name]["environment"][url]
        assert services[name]["command"][3:] == ["serve"] and "healthcheck" in services[name]
    assert {k: v["condition"] for k, v in services["gateway"]["depends_on"].items()} == {
        "auth": "service_healthy", "collection": "service_healthy"
    }  # fmt: skip
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["gateway"]


def test_the_gateway_and_the_services_agree_on_addresses_and_ports(project: dict, tmp_path: Path) -> None:
    services = project["services"]
    gateway = services["gateway"]["environment"]
    auth, collection = services["auth"]["environment"], services["collection"]["environment"]
    config = envoy_config(gateway)
    assert upstreams(config) == {
        "auth_service": ("auth", int(auth["AUTH_PORT"])),
        "collection_service": ("collection", int(collection["COLLECTION_PORT"])),
    }
    assert auth["AUTH_HOST"] == collection["COLLECTION_HOST"] == gateway["GATEWAY_HOST"] == "0.0.0.0"  # noqa: S104
    assert auth["AUTH_COLLECTION_SERVICE_ADDR"] == f"collection:{collection['COLLECTION_PORT']}"
    assert collection["COLLECTION_AUTH_SERVICE_ADDR"] == f"auth:{auth['AUTH_PORT']}"
    assert auth["AUTH_ISSUER"] == collection["COLLECTION_ISSUER"]
    assert auth["AUTH_AUDIENCE"] == collection["COLLECTION_AUDIENCE"]
    assert auth["AUTH_DELETION_AUDIENCE"] == collection["COLLECTION_DELETION_AUDIENCE"]
    [published] = services["gateway"]["ports"]
    assert int(published["target"]) == listener_port(config) and published["host_ip"] == "127.0.0.1"
    assert_envoy_accepts(gateway, tmp_path)


def test_the_signing_key_is_a_file_secret_never_an_environment_literal(project: dict) -> None:
    auth = project["services"]["auth"]
    [secret] = [s for s in auth["secrets"] if s["source"] == "auth_signing_key"]
    assert auth["environment"]["AUTH_PRIVATE_KEY_FILE"] == f"/run/secrets/{secret['source']}"
    assert project["secrets"][secret["source"]]["file"] == str(ROOT / "secrets" / "auth_ed25519.pem")
    for service in project["services"].values():
        for value in service.get("environment", {}).values():
            assert "PRIVATE KEY" not in str(value)


def test_postgres_runs_the_init_script_with_the_passwords_it_needs(project: dict) -> None:
    postgres = project["services"]["postgres"]
    [init] = [v for v in postgres["volumes"] if v["target"].startswith("/docker-entrypoint-initdb.d/")]
    script = Path(init["source"])
    assert script == ROOT / "deploy" / "postgres" / "init-databases.sh" and script.stat().st_mode & 0o111
    needed = set(re.findall(r'"\$\{([A-Z_]+):\?', script.read_text()))
    assert needed and needed <= set(postgres["environment"])


def test_envoy_and_auth_service_read_the_same_gateway_secret_file(project: dict) -> None:
    auth, gateway = project["services"]["auth"], project["services"]["gateway"]
    [from_gateway] = [s["source"] for s in gateway["secrets"]]
    assert from_gateway == "gateway_secret" and from_gateway in [s["source"] for s in auth["secrets"]]
    assert auth["environment"]["AUTH_GATEWAY_SECRET_FILE"] == gateway["environment"]["GATEWAY_SECRET_FILE"]
    assert gateway["environment"]["GATEWAY_SECRET_FILE"] == "/run/secrets/gateway_secret"
    assert project["secrets"]["gateway_secret"]["file"] == str(ROOT / "secrets" / "gateway.secret")
    assert gateway["environment"]["GATEWAY_XFF_TRUSTED_HOPS"] == "0"  # by default nothing in front is trusted
    assert "collection" not in [name for name, svc in project["services"].items() if "gateway_secret" in str(svc)]


def test_auth_runs_in_production_with_smtp_and_its_password_from_a_file_secret(project: dict) -> None:
    auth = project["services"]["auth"]
    env = auth["environment"]
    assert env["AUTH_ENVIRONMENT"] == "production" and env["AUTH_EMAIL_SENDER"] == "smtp"
    assert env["AUTH_SMTP_TLS"] in ("starttls", "implicit")
    [secret] = [s for s in auth["secrets"] if env["AUTH_SMTP_PASSWORD_FILE"] == f"/run/secrets/{s['source']}"]
    assert project["secrets"][secret["source"]]["file"] == str(ROOT / "secrets" / "smtp_password")
