"""Credentials never travel in a URL and path ids cannot be overridden from the query: the gateway refuses a
query parameter naming a field the route's path or body carries, before any service sees it, and its access
log holds no query string."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Frontend, Running

FORM = {"content-type": "application/x-www-form-urlencoded"}


def refused(reply: httpx.Response, field: str) -> None:
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["error"] == "invalid_request" and field in body["detail"] and "query" in body["detail"]
    [violation] = body["details"][0]["field_violations"]
    assert violation["field"] == field


def test_a_password_in_the_token_urls_query_is_refused_even_with_a_valid_one_and_never_logged(
    running: Running, frontend: Frontend
) -> None:
    _, name = frontend.register()
    secret = f"url-secret-{uuid.uuid4().hex}"
    http = frontend.client
    refused(http.post(f"/token?username={name}&password={secret}", content="grant_type=password", headers=FORM),
            "username")  # fmt: skip
    refused(http.post(f"/token?password={secret}", content=f"username={name}&password=testpassword", headers=FORM),
            "password")  # fmt: skip
    refused(http.post(f"/users/?password={secret}", json={"username": "x"}), "password")
    refused(http.post(f"/users/verify?token={secret}", json={}), "token")
    token = frontend.login(name).json()["access_token"]
    bearer = {"authorization": f"Bearer {token}"}
    refused(http.post(f"/users/me/password?new_password={secret}", json={}, headers=bearer), "new_password")
    refused(http.post(f"/users/me/password?currentPassword={secret}", json={}, headers=bearer), "currentPassword")
    assert frontend.login(name).status_code == 200  # nothing changed
    time.sleep(1.0)  # Envoy flushes its access log every 0.5 s here
    log = running.log_path.read_text(errors="replace")
    assert "/token" in log and secret not in log


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_cigar_id_in_the_query_cannot_override_the_one_in_the_path(frontend: Frontend, method: str) -> None:
    _, token = frontend.token_for_new_user()
    bearer = {"authorization": f"Bearer {token}"}
    http = frontend.client
    mine = http.post("/cigars/", json={"name": "Mine", "brand": "B", "rating": 3}, headers=bearer).json()
    other = http.post("/cigars/", json={"name": "Other", "brand": "B", "rating": 3}, headers=bearer).json()
    body = {"rating": 5} if method == "PATCH" else None
    refused(http.request(method, f"/cigars/{mine['id']}?id={other['id']}", json=body, headers=bearer), "id")
    assert http.get(f"/cigars/{other['id']}").json() == other  # untouched
    assert http.get(f"/cigars/{mine['id']}").json() == mine


def test_list_filters_and_unknown_parameters_still_work(frontend: Frontend) -> None:
    reply = frontend.client.get("/cigars/?limit=1&skip=0&_=cache-buster")
    assert reply.status_code == 200 and isinstance(reply.json(), list)
