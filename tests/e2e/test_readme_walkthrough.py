"""The buf curl walk-through of docs/grpc.md runs as written against the real services and calls every RPC."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from tests.e2e.conftest import Running

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    page = (ROOT / "docs" / "grpc.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->", page, re.S)
    assert block, "docs/grpc.md lost its buf curl walk-through block"
    return block[1]


def json_documents(text: str) -> list[object]:
    """buf curl prints each answer as indented JSON; split the stream into its documents."""
    decoder, found, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i] in "{[":
            value, i = decoder.raw_decode(text, i)
            found.append(value)
        else:
            i += 1
    return found


def test_the_readme_walkthrough_lists_services_and_calls_every_rpc_with_a_token(running: Running) -> None:
    script = walkthrough()
    name = f"walk_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "BUF": str(Path(sys.executable).parent / "buf"), "NAME": name,
           "AUTH": running.auth_addr, "COLLECTION": running.collection_addr}  # fmt: skip
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "cigar.auth.v1.AuthService" in out and "grpc.reflection.v1alpha.ServerReflection" in out
    assert "cigar.collection.v1.CollectionService/ListMyCigars" in out  # --list-methods
    answers = json_documents(out)
    users = [a for a in answers if isinstance(a, dict) and a.get("username") == name]
    assert len(users) == 2, "CreateUser and GetMe both answer the user"
    cigars = [a for a in answers if isinstance(a, dict) and a.get("name") == "Robusto"]
    assert [c.get("rating") for c in cigars] == [5, 4]  # GetCigar, then UpdateCigar's answer
    assert users[1]["cigars"][0]["rating"] == 4  # GetMe, with the token, sees the cigar it changed
    assert any(isinstance(a, dict) and a.get("keys") for a in answers)  # GetJwks
    assert {"status": "SERVING"} in answers
    methods = ("CreateUser", "Token", "GetMe", "GetJwks", "CreateCigar", "GetCigar", "UpdateCigar", "DeleteCigar",
               "ListCigars", "ListMyCigars", "Revoke")  # fmt: skip
    for method in methods:
        assert re.search(rf"\$CURL .*{method}\b", script, re.S), f"the walk-through skips {method}"
