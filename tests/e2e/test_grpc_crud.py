"""The gRPC cigar examples of docs/grpc.md, run with `buf curl` against the real collection_service process."""

from __future__ import annotations

import json

from tests.e2e.conftest import Frontend, Running
from tests.e2e.test_grpc_clients import buf_curl
from tests.e2e.test_rest_contract import CIGAR, auth


def test_buf_curl_pages_patches_with_a_mask_and_deletes(running: Running, frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    brand = f"Curl {token[-6:]}"
    made = [
        frontend.client.post("/cigars/", json={**CIGAR, "brand": brand}, headers=auth(token)).json() for _ in range(3)
    ]
    service = f"http://{running.collection_addr}/cigar.collection.v1.CollectionService"

    first = json.loads(buf_curl("-d", json.dumps({"brand": brand, "pageSize": 2}), f"{service}/ListCigars"))
    rest = json.loads(
        buf_curl(
            "-d",
            json.dumps({"brand": brand, "pageSize": 2, "pageToken": first["nextPageToken"]}),
            f"{service}/ListCigars",
        )
    )
    assert [c["id"] for c in first["cigars"] + rest["cigars"]] == [c["id"] for c in made]
    assert "nextPageToken" not in rest  # proto3 JSON omits the empty token of the last page

    target = made[0]["id"]
    body = json.dumps({"id": target, "cigar": {"origin": "", "name": "ignored"}, "updateMask": "origin"})
    updated = json.loads(buf_curl("-H", f"Authorization: Bearer {token}", "-d", body, f"{service}/UpdateCigar"))
    assert (updated["name"], updated.get("origin", "")) == (CIGAR["name"], "")
    buf_curl("-H", f"Authorization: Bearer {token}", "-d", json.dumps({"id": target}), f"{service}/DeleteCigar")
    assert frontend.client.get(f"/cigars/{target}").status_code == 404
