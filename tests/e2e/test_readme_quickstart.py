"""The README's REST quick start runs as written, in order, against the real stack through Envoy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

from tests.e2e.conftest import Running
from tests.e2e.test_readme_walkthrough import walkthrough

ROOT = Path(__file__).resolve().parents[2]


def quickstart() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- quickstart:start -->\n```sh\n(.*?)```\n<!-- quickstart:end -->", readme, re.S)
    assert block, "README.md lost its quick start block"
    return block[1]


def run(script: str, running: Running, name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "API": running.url, "NAME": name}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def answer(line: str) -> tuple[object, int]:
    """`curl -w ' %{http_code}\\n'` prints the body, a space and the status."""
    body, status = line.rsplit(" ", 1)
    return json.loads(body), int(status)


def test_the_readme_quickstart_runs_in_order_from_register_to_delete(running: Running) -> None:
    script = quickstart()
    # against `make run` as written: the defaults a newcomer gets
    assert "API=${API:-localhost:8000}" in script and "NAME=${NAME:-testuser}" in script
    name = f"qs_{uuid.uuid4().hex[:8]}"

    result = run(script, running, name)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 7, result.stdout
    ids = re.fullmatch(r"user (\d+), cigar (\d+)", lines[0])
    assert ids, lines[0]
    user_id, cigar_id = int(ids[1]), int(ids[2])
    created = {"id": cigar_id, "name": "Robusto", "brand": "Padron", "origin": "Nicaragua",
               "flavor_notes": "cocoa", "rating": 5, "owner_id": user_id}  # fmt: skip
    patched = {**created, "rating": 4, "flavor_notes": "cocoa, cedar"}
    assert answer(lines[1]) == ([created], 200)  # the list, filtered to the new user: just the new cigar
    assert answer(lines[2]) == (created, 200)
    assert answer(lines[3]) == (patched, 200)
    me, status = answer(lines[4])
    assert status == 200 and isinstance(me, dict)
    assert (me["id"], me["username"], me["email"]) == (user_id, name, f"{name}@example.com")
    assert me["cigars"] == [patched]
    assert lines[5:] == ["204", "404"]  # deleted, then gone


def test_the_readme_quickstart_stops_at_once_when_its_user_is_registered_again(running: Running) -> None:
    script = quickstart()
    name = f"qs_{uuid.uuid4().hex[:8]}"
    assert run(script, running, name).returncode == 0

    again = run(script, running, name)

    assert again.returncode != 0  # the 409 has no id: `jq -e` fails, and nothing after it runs
    assert again.stdout.strip() in ("", "null"), again.stdout


def test_the_grpc_walkthrough_registers_another_user_than_the_quickstart_by_default() -> None:
    default = re.compile(r"NAME=\$\{NAME:-(\w+)\}")
    ours, theirs = default.search(quickstart()), default.search(walkthrough())
    assert ours and theirs
    assert ours[1] != theirs[1], "after the quick start, the walk-through's CreateUser would answer ALREADY_EXISTS"
