"""Bad input through the gateway: a clear 4xx JSON body with `detail`, never a 500, nothing stored."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Frontend

GOOD = {"name": "n", "brand": "b", "rating": 3}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize(
    "header", [None, "Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer", "bearer x y z"]
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/users/me/"), ("POST", "/cigars/")])
def test_missing_or_bad_tokens_get_401_with_www_authenticate(
    frontend: Frontend, header: str | None, method: str, path: str
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = frontend.client.request(method, path, json=GOOD if method == "POST" else None, headers=headers)
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_duplicate_username_is_409_not_500(frontend: Frontend) -> None:
    _, username = frontend.register()
    response = frontend.client.post(
        "/users/", json={"username": username, "email": f"other-{username}@example.com", "password": "testpassword"}
    )
    assert "already" in assert_error(response, 409)["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "email": "ab@example.com", "password": "testpassword"}, "username"),
        ({"username": "valid_name", "email": "not-an-email", "password": "testpassword"}, "email"),
        ({"username": "valid_name", "email": "v@example.com", "password": "short"}, "password"),
        ({"email": "v@example.com", "password": "testpassword"}, "username"),
    ],
)
def test_invalid_registration_is_400_naming_the_field(frontend: Frontend, body: dict, field: str) -> None:
    body_json = assert_error(frontend.client.post("/users/", json=body), 400)
    fields = [v["field"] for d in body_json["details"] for v in d.get("field_violations", [])]
    assert field in fields


@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
def test_bad_login_is_400_invalid_grant_whether_or_not_the_user_exists(frontend: Frontend, who: str) -> None:
    _, username = frontend.register()
    response = frontend.login(username if who == "wrong password" else username + "_ghost", password="nope-nope")
    body = assert_error(response, 400)
    assert body["error"] == "invalid_grant"
    assert body["detail"] == "incorrect username or password"
    assert response.headers["cache-control"] == "no-store"


def test_unsupported_grant_type_is_400(frontend: Frontend) -> None:
    response = frontend.client.post(
        "/token", data={"grant_type": "client_credentials", "username": "a", "password": "b"}
    )
    assert assert_error(response, 400)["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"brand": "b", "rating": 3}, "name"),
        ({"name": "", "brand": "b", "rating": 3}, "name"),
        ({"name": "n", "rating": 3}, "brand"),
        ({"name": "n", "brand": "b", "rating": 6}, "rating"),
        ({"name": "n", "brand": "b"}, "rating"),
        ({"name": "n" * 101, "brand": "b", "rating": 3}, "name"),
        ({"name": "n", "brand": "b", "flavor_notes": "f" * 2001, "rating": 3}, "flavor_notes"),
    ],
)
def test_invalid_cigars_are_400_naming_the_field_and_store_nothing(frontend: Frontend, body: dict, field: str) -> None:
    user_id, token = frontend.token_for_new_user()
    body_json = assert_error(frontend.client.post("/cigars/", json=body, headers=auth(token)), 400)
    fields = [v["field"] for d in body_json["details"] for v in d.get("field_violations", [])]
    assert field in fields
    assert frontend.client.get("/users/me/", headers=auth(token)).json()["cigars"] == []


@pytest.mark.parametrize(
    "raw",
    ['{"name": "n", bad json', '{"name": "n", "brand": "b", "rating": "five"}', "[]", '{"rating": 1e40}', "null"],
)
def test_malformed_json_is_400_with_detail(frontend: Frontend, raw: str) -> None:
    _, token = frontend.token_for_new_user()
    headers = {**auth(token), "Content-Type": "application/json"}
    assert_error(frontend.client.post("/cigars/", content=raw, headers=headers), 400)


@pytest.mark.parametrize("query", ["skip=-1", "limit=0", "limit=101", "limit=abc", "skip=99999999999999", "limit=1.5"])
def test_out_of_range_or_malformed_paging_is_400(frontend: Frontend, query: str) -> None:
    assert_error(frontend.client.get(f"/cigars/?{query}"), 400)


def test_unknown_paths_are_404_json(frontend: Frontend) -> None:
    assert_error(frontend.client.get("/nope"), 404)
