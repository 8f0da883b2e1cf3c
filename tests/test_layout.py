"""The layering the README draws, checked on the imports: kit → services → gateway, each service in layers.

Read from the source with `ast` (nothing is imported), so a forbidden import fails here even when it sits in a
function body or an `if TYPE_CHECKING:` block.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("auth_service", "collection_service")
KIT = ROOT / "libs" / "service_kit" / "service_kit"
# What the inner layers (domain, ports, use cases) may not know about: transport, storage, the outer layers.
INFRASTRUCTURE = ("grpc", "grpc_status", "google", "cigar", "sqlalchemy", "asyncpg", "aiosqlite", "alembic", "jwt")


def imported_modules(path: Path, package: str) -> Iterator[str]:
    """Every module `path` imports, relative imports resolved against `package` (the file's own package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            else:
                yield node.module or ""


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


def sources(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.py") if "migrations" not in p.parts)


def top(module: str) -> str:
    return module.split(".")[0]


def test_the_import_reader_sees_relative_and_nested_imports(tmp_path: Path) -> None:
    """The checks below are only as good as this reader: it must not miss the import forms they look for."""
    sample = tmp_path / "sample.py"
    sample.write_text("from ..adapters import db\nfrom . import rules\ndef f():\n    import grpc\n")
    found = set(imported_modules(sample, "auth_service.app"))
    assert found == {"auth_service.adapters", "auth_service.app", "grpc"}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_never_imports_the_other(service: str) -> None:
    (other,) = set(SERVICES) - {service}
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources(ROOT / service)
        for module in imported_modules(path, package_of(path))
        if top(module) in (other, "monolith_import")
    ]
    assert offenders == []


def test_the_kit_names_no_service() -> None:
    offenders = [
        f"{path.relative_to(ROOT / 'libs' / 'service_kit')}: {module}"
        for path in sources(KIT)
        for module in imported_modules(path, "service_kit." + ".".join(path.relative_to(KIT).parent.parts))
        if top(module) in (*SERVICES, "monolith_import", "gateway", "scripts", "cigar")
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_domain_ports_and_use_cases_know_no_transport_storage_or_outer_layer(service: str) -> None:
    root = ROOT / service
    inner = [root / "domain.py", root / "ports.py", *sources(root / "app")]
    outer = tuple(f"{service}.{layer}" for layer in ("adapters", "api", "server", "settings", "__main__"))
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in inner
        for module in imported_modules(path, package_of(path))
        if top(module) in INFRASTRUCTURE or module.startswith(outer)
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_servicer_reaches_storage_only_through_the_composition_root(service: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources(ROOT / service / "api")
        for module in imported_modules(path, package_of(path))
        if module.startswith(f"{service}.adapters") or top(module) in ("sqlalchemy", "asyncpg", "aiosqlite")
    ]
    assert offenders == []
