"""The docs tell the truth about the code: every setting and command is documented, every link lands."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, SETTINGS, assert_command_exists

OPERATIONS = ROOT / "docs" / "operations.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_setting_of_every_service_and_the_gateway_is_documented_in_operations() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", OPERATIONS.read_text()))
    missing = {module: sorted(names - documented) for module, names in SETTINGS.items()}
    assert not any(missing.values()), f"not in docs/operations.md: {missing}"


def subcommands(module: str) -> set[str]:
    """The commands a service's argument parser offers, as its usage line lists them."""
    main = importlib.import_module(f"{module}.__main__")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main.parse_args(["--help"])
    listed = re.search(r"\{([a-z,-]+)\}", out.getvalue())
    assert listed, out.getvalue()
    return set(listed[1].split(","))


@pytest.mark.parametrize("module", ["auth_service", "collection_service"])
def test_every_command_of_each_service_is_documented_in_operations_and_every_documented_one_exists(
    module: str,
) -> None:
    text = OPERATIONS.read_text()
    documented = set(re.findall(rf"`python -m {module} ([a-z-]+)", text))
    # the table names auth_service's commands once, "(same for `collection_service`)"
    if module == "collection_service":
        documented |= set(re.findall(r"`python -m auth_service (migrate|serve|check|health)", text))
    for command in documented:
        assert_command_exists(["python", "-m", module, command])
    assert subcommands(module) <= documented, f"{module}'s commands missing from docs/operations.md"


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_the_readme_and_docs_lands_on_a_file_and_heading_that_exist(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # links in code blocks are not links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s) and the like
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: {target}: no such heading"
