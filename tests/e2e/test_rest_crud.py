"""GET, PATCH and DELETE /cigars/{id} and the list filters through real Envoy, as a frontend calls them."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Frontend
from tests.e2e.test_rest_contract import CIGAR, CIGAR_KEYS, auth
from tests.e2e.test_rest_errors import assert_error


def new_cigar(frontend: Frontend, token: str, **fields: object) -> dict:
    response = frontend.client.post("/cigars/", json={**CIGAR, **fields}, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_get_cigar_by_id_is_public_and_shaped_like_the_list(frontend: Frontend, suffix: str) -> None:
    _, token = frontend.token_for_new_user()
    made = new_cigar(frontend, token, name="Ñandú 日本 🚬")
    response = frontend.client.get(f"/cigars/{made['id']}{suffix}")
    assert response.status_code == 200, response.text
    assert list(response.json()) == CIGAR_KEYS
    assert response.json() == made


def test_patch_changes_only_the_fields_sent(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    made = new_cigar(frontend, token)
    response = frontend.client.patch(f"/cigars/{made['id']}", json={"rating": 5, "origin": ""}, headers=auth(token))
    assert response.status_code == 200, response.text
    assert response.json() == {**made, "rating": 5, "origin": ""}
    assert frontend.client.get(f"/cigars/{made['id']}").json() == response.json()


def test_patch_with_bad_values_is_400_naming_them_and_changes_nothing(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    made = new_cigar(frontend, token)
    body = assert_error(
        frontend.client.patch(f"/cigars/{made['id']}", json={"name": "", "rating": 9}, headers=auth(token)), 400
    )
    assert {v["field"] for d in body["details"] for v in d.get("field_violations", [])} == {"name", "rating"}
    assert frontend.client.get(f"/cigars/{made['id']}").json() == made


def test_patch_takes_the_id_from_the_path_and_ignores_read_only_fields(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    first, second = new_cigar(frontend, token), new_cigar(frontend, token)
    body = {"id": second["id"], "owner_id": 99, "name": "Renamed"}
    response = frontend.client.patch(f"/cigars/{first['id']}", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    assert response.json() == {**first, "name": "Renamed"}
    assert frontend.client.get(f"/cigars/{second['id']}").json() == second


def test_delete_answers_204_with_no_body_then_the_cigar_is_gone(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    made = new_cigar(frontend, token)
    response = frontend.client.delete(f"/cigars/{made['id']}", headers=auth(token))
    assert (response.status_code, response.content) == (204, b"")
    assert_error(frontend.client.get(f"/cigars/{made['id']}"), 404)
    assert_error(frontend.client.delete(f"/cigars/{made['id']}", headers=auth(token)), 404)
    assert frontend.client.get("/users/me/", headers=auth(token)).json()["cigars"] == []


def test_only_the_owner_may_patch_or_delete(frontend: Frontend) -> None:
    _, owner = frontend.token_for_new_user()
    _, other = frontend.token_for_new_user()
    made = new_cigar(frontend, owner)
    assert (
        "another user"
        in assert_error(frontend.client.patch(f"/cigars/{made['id']}", json={"name": "x"}, headers=auth(other)), 403)[
            "detail"
        ]
    )
    assert_error(frontend.client.delete(f"/cigars/{made['id']}", headers=auth(other)), 403)
    response = frontend.client.delete(f"/cigars/{made['id']}")
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert frontend.client.get(f"/cigars/{made['id']}").json() == made


@pytest.mark.parametrize("path", ["/cigars/999999999", "/cigars/0"])
def test_unknown_ids_are_404(frontend: Frontend, path: str) -> None:
    _, token = frontend.token_for_new_user()
    assert_error(frontend.client.get(path), 404)
    assert_error(frontend.client.patch(path, json={"rating": 3}, headers=auth(token)), 404)
    assert_error(frontend.client.delete(path, headers=auth(token)), 404)


@pytest.mark.parametrize("path", ["/cigars/abc", "/cigars/99999999999"])
def test_malformed_ids_are_400(frontend: Frontend, path: str) -> None:
    assert_error(frontend.client.get(path), 400)


def test_filters_narrow_the_bare_array_in_id_order(frontend: Frontend) -> None:
    owner_id, token = frontend.token_for_new_user()
    brand = f"Brand {uuid.uuid4().hex[:6]}"
    a = new_cigar(frontend, token, brand=brand, origin="Cuba", rating=5, name="Short Story")
    b = new_cigar(frontend, token, brand=brand, origin="Nicaragua", rating=3, name="Robusto")
    c = new_cigar(frontend, token, brand=brand, origin="Cuba", rating=2, name="short churchill")

    def ids(**params: object) -> list[int]:
        response = frontend.client.get("/cigars/", params={"limit": 100, **params})
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), list)
        return [x["id"] for x in response.json()]

    assert ids(brand=brand) == [a["id"], b["id"], c["id"]]
    assert ids(brand=brand, origin="Cuba", min_rating=3) == [a["id"]]
    assert ids(owner_id=owner_id, q="SHORT") == [a["id"], c["id"]]
    assert ids(brand=brand, skip=1, limit=1) == [b["id"]]
    assert_error(frontend.client.get("/cigars/", params={"min_rating": 7}), 400)
