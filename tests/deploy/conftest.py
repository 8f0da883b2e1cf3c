"""What the deployment tests share: each entrypoint's real settings and commands, and Envoy validation."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from pydantic_settings import BaseSettings

from auth_service.settings import Settings as AuthSettings
from collection_service.settings import Settings as CollectionSettings
from gateway import entrypoint
from gateway.render import DEFAULTS, GATEWAY_DIR, TRACING, render
from tests.conftest import GATEWAY_TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
KUBECTL = BIN / "kubectl"


def setting_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a pydantic Settings class reads (prefix + field name, and aliases)."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        aliases = {c.upper() for c in getattr(field.validation_alias, "choices", []) if isinstance(c, str)}
        # pydantic-settings reads a field with an alias under its aliases only, without the prefix
        names |= aliases or {f"{prefix}{name}".upper()}
    return names


# The module a container runs (`python -m MODULE ...`) -> the environment variables it reads.
SETTINGS = {
    "auth_service": setting_names(AuthSettings),
    "collection_service": setting_names(CollectionSettings),
    "gateway.entrypoint": set(DEFAULTS) | set(TRACING) | set(entrypoint.SETTINGS),
}


SETTINGS_CLASSES: dict[str, type[BaseSettings]] = {
    "auth_service": AuthSettings,
    "collection_service": CollectionSettings,
}


def assert_settings_accept(module: str, env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's Settings, read from exactly this environment, validate (types, ranges, JSON lists)."""
    if module not in SETTINGS_CLASSES:
        return
    for name in list(os.environ):
        if name.startswith(("AUTH_", "COLLECTION_")) or name == "ACCESS_TOKEN_EXPIRE_MINUTES":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    SETTINGS_CLASSES[module]()


def module_of(command: list[str]) -> str:
    assert command[:2] == ["python", "-m"], f"{command}: expected `python -m MODULE ...`"
    return command[2]


def assert_command_exists(command: list[str]) -> None:
    """`python -m MODULE ARGS`: the module exists and its own argument parser accepts ARGS."""
    module = module_of(command)
    args = command[3:]
    if module == "gateway.entrypoint":
        assert len(args) <= 1 and set(args) <= set(entrypoint.COMMANDS), f"{command}: unknown gateway command"
        return
    main = importlib.import_module(f"{module}.__main__")
    try:
        parsed = main.parse_args(args)
    except SystemExit as exc:  # argparse rejects unknown commands and options this way
        raise AssertionError(f"{command}: {module} does not accept {args}") from exc
    assert isinstance(parsed, argparse.Namespace)


def envoy_config(env: Mapping[str, str]) -> dict:
    """The Envoy config a gateway container renders from `env` (files from this checkout)."""
    return yaml.safe_load(render({**env, "GATEWAY_DIR": str(GATEWAY_DIR)}, secret=GATEWAY_TEST_SECRET))


def upstreams(config: dict) -> dict[str, tuple[str, int]]:
    """cluster name -> (address, port) of its one endpoint, for the services' clusters (not Envoy's own admin's
    or the trace collector's)."""
    result = {}
    for cluster in config["static_resources"]["clusters"]:
        if not cluster["name"].endswith("_service"):
            continue
        [endpoint] = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        socket = endpoint["endpoint"]["address"]["socket_address"]
        result[cluster["name"]] = (socket["address"], int(socket["port_value"]))
    return result


def listener_port(config: dict) -> int:
    [listener] = [entry for entry in config["static_resources"]["listeners"] if entry["name"] == "rest"]
    return int(listener["address"]["socket_address"]["port_value"])


def assert_envoy_accepts(env: Mapping[str, str], tmp_path: Path) -> None:
    path = tmp_path / "envoy.yaml"
    path.write_text(render({**env, "GATEWAY_DIR": str(GATEWAY_DIR)}, secret=GATEWAY_TEST_SECRET))
    result = subprocess.run([str(BIN / "envoy"), "--mode", "validate", "-c", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def key_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auth_service.adapters.keys import create_key_file

    path = tmp_path_factory.mktemp("deploy-key") / "auth_ed25519.pem"
    create_key_file(path)
    return path


K8S_GATEWAY_SECRET = "k8s-test-gateway-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def operator_copy(tmp_path_factory: pytest.TempPathFactory, key_pem: Path) -> Path:
    """deploy/k8s/base, in a copy of deploy/k8s, with the files an operator adds: a key, the gateway secret, the
    database URLs and the SMTP password (each example copied)."""
    k8s = tmp_path_factory.mktemp("k8s") / "k8s"
    ignore = shutil.ignore_patterns("auth_ed25519.pem", "database.env", "gateway.secret", "smtp_password")
    shutil.copytree(ROOT / "deploy" / "k8s", k8s, ignore=ignore)
    base = k8s / "base"
    shutil.copy(key_pem, base / "secrets" / "auth_ed25519.pem")
    for example in (base / "secrets").glob("*.example"):
        shutil.copy(example, example.with_suffix(""))
    (base / "secrets" / "gateway.secret").write_text(K8S_GATEWAY_SECRET + "\n")
    return base


def kustomize(path: Path) -> list[dict]:
    result = subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
