"""Every error a REST client gets, checked against /openapi.json's Error schema (with its typed google.rpc
details) and the headers its status promises. The e2e clients call it on each answer (an httpx response hook
on the `http` fixture, tests/e2e/conftest.py), so every error any e2e test provokes is validated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator

DOC: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "gateway/generated/openapi.json").read_text())
ERROR = Draft202012Validator({"$ref": "#/components/schemas/Error", "components": DOC["components"]})
# Paths that are no REST route of the document: gRPC calls on the REST port keep gRPC's own error answers.
GRPC_PREFIX = "/cigar."


def check_error(response: httpx.Response) -> None:
    """A 4xx/5xx answer of a REST path: the Error schema, JSON, and the headers of its status."""
    if response.status_code < 400 or response.request.url.path.startswith(GRPC_PREFIX):
        return
    if response.request.method == "HEAD":
        return  # no body to check
    response.read()
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert response.headers.get("content-type", "").startswith("application/json"), f"{where}: {response.text}"
    errors = sorted(ERROR.iter_errors(response.json()), key=str)
    assert not errors, f"{where}: {response.text}: {errors[0].message}"
    if response.status_code == 405:
        assert response.headers.get("allow"), where
    if response.status_code == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), where
    if response.status_code == 429:
        assert response.headers.get("retry-after", "").isdigit(), where


HOOKS = {"response": [check_error]}
