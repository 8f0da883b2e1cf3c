"""What browsers and typed clients get from the gateway beyond the bodies, through the real Envoy on SQLite and
PostgreSQL: paging links, one error shape with CORS headers, Location, ETag/304, Cache-Control, HEAD, compression."""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from scripts.stack import Stack, StackConfig, running, stop_service
from tests.conftest import MANY_REGISTRATIONS
from tests.e2e.conftest import Frontend, Running
from tests.e2e.error_shape import HOOKS, check_error

ORIGIN = "http://app.example"
EXPOSED = {"retry-after", "link", "etag", "location", "www-authenticate", "x-request-id"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def next_link(response: httpx.Response) -> str | None:
    """The target of the Link header's rel="next" (RFC 8288), or None."""
    for target, params in re.findall(r"<([^>]*)>\s*((?:;[^,]*)*)", response.headers.get("link", "")):
        if re.search(r';\s*rel="?next"?', params):
            return target
    return None


@pytest.fixture
def brand(frontend: Frontend) -> Iterator[tuple[str, str, list[int]]]:
    """A brand of its own with 7 cigars (one of another brand between them): (brand, token, ids)."""
    _, token = frontend.token_for_new_user()
    name = f"paging-{uuid.uuid4().hex[:8]}"
    ids = []
    for i in range(7):
        body = {"name": f"C{i}", "brand": name, "rating": 1 + i % 5}
        ids.append(frontend.client.post("/cigars/", json=body, headers=auth(token)).json()["id"])
        if i == 3:
            frontend.client.post(
                "/cigars/", json={"name": "x", "brand": name + "-other", "rating": 3}, headers=auth(token)
            )
    yield name, token, ids


def test_walking_the_next_links_visits_every_cigar_once_in_order(frontend: Frontend, brand) -> None:
    name, _, ids = brand
    seen, pages = [], 0
    url: str | None = f"/cigars/?brand={name}&limit=3"
    while url is not None:
        response = frontend.client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert isinstance(page, list)  # the contract's bare array stays
        seen += [c["id"] for c in page]
        pages += 1
        url = next_link(response)
        if url is not None:
            assert f"brand={name}" in url and "limit=3" in url and "page_token=" in url
    assert (seen, pages) == (ids, 3)


def test_the_link_carries_every_filter_and_drops_skip(frontend: Frontend, brand) -> None:
    name, _, ids = brand
    response = frontend.client.get("/cigars/", params={"brand": name, "min_rating": 2, "skip": 1, "limit": 2})
    first = [c["id"] for c in response.json()]
    target = next_link(response)
    assert target is not None and "skip=" not in target and "min_rating=2" in target
    second = [c["id"] for c in frontend.client.get(target).json()]
    rated = [i for n, i in enumerate(ids) if 1 + n % 5 >= 2]
    assert first + second == rated[1:5]


def test_the_last_page_and_an_exact_fit_have_no_link(frontend: Frontend, brand) -> None:
    name, _, _ = brand
    assert next_link(frontend.client.get("/cigars/", params={"brand": name, "limit": 7})) is None
    assert next_link(frontend.client.get("/cigars/", params={"brand": name, "limit": 100})) is None
    assert next_link(frontend.client.get("/cigars/", params={"brand": name, "limit": 6})) is not None


def test_cors_exposes_the_headers_browsers_need(frontend: Frontend, brand) -> None:
    name, _, _ = brand
    response = frontend.client.get("/cigars/", params={"brand": name, "limit": 2}, headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert exposed >= EXPOSED


def test_a_201_has_the_location_of_the_new_cigar(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    body = {"name": "n", "brand": "b", "rating": 3}
    response = frontend.client.post("/cigars/", json=body, headers={**auth(token), "Origin": ORIGIN})
    assert response.status_code == 201
    location = response.headers["location"]
    assert location == f"/cigars/{response.json()['id']}"
    assert frontend.client.get(location).json() == response.json()


def error_of(response: httpx.Response, status: int) -> dict:
    """The one error shape, with the CORS headers a browser needs to read it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("access-control-allow-origin") == ORIGIN, dict(response.headers)
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_envoys_own_404_is_in_the_error_shape_with_cors(frontend: Frontend) -> None:
    body = error_of(frontend.client.get("/no/such/path", headers={"Origin": ORIGIN}), 404)
    assert body["error"] == "not_found" and "/no/such/path" in body["detail"]


def test_a_413_is_in_the_error_shape_with_cors(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    headers = {**auth(token), "Origin": ORIGIN, "Content-Type": "application/json"}
    response = frontend.client.post("/cigars/", content=b'{"name":"' + b"x" * 70_000 + b'"}', headers=headers)
    assert error_of(response, 413)["error"] == "payload_too_large"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/cigars/1", "GET, HEAD, PATCH, DELETE, OPTIONS"), ("DELETE", "/cigars/", "GET, HEAD, POST, OPTIONS"),
     ("GET", "/token", "POST, OPTIONS")],
)  # fmt: skip
def test_a_wrong_method_is_405_with_allow(frontend: Frontend, method: str, path: str, allow: str) -> None:
    response = frontend.client.request(method, path, headers={"Origin": ORIGIN})
    assert error_of(response, 405)["error"] == "method_not_allowed"
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [('{"name":"n","brand":"b","rating":"five"}', "rating", "whole number"),
     ('{"name":5,"brand":"b","rating":3}', "name", "string"),
     ('{"name":"n","brand":"b","rating":true}', "rating", "whole number")],
)  # fmt: skip
def test_a_body_the_transcoder_cannot_read_names_the_field_in_words(
    frontend: Frontend, raw: str, field: str, words: str
) -> None:
    _, token = frontend.token_for_new_user()
    headers = {**auth(token), "Origin": ORIGIN, "Content-Type": "application/json"}
    body = error_of(frontend.client.post("/cigars/", content=raw, headers=headers), 400)
    assert body["error"] == "invalid_request" and words in body["detail"] and "TYPE_" not in body["detail"]
    assert [v["field"] for d in body["details"] for v in d["field_violations"]] == [field]


@pytest.mark.parametrize("query", ["limit=abc", "skip=1.5", "min_rating=x"])
def test_a_query_the_transcoder_cannot_read_names_the_parameter(frontend: Frontend, query: str) -> None:
    body = error_of(frontend.client.get(f"/cigars/?{query}", headers={"Origin": ORIGIN}), 400)
    assert body["detail"].startswith(query.split("=")[0] + " must be a whole number") and "TYPE_" not in body["detail"]


def test_malformed_json_is_400_in_words(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    headers = {**auth(token), "Origin": ORIGIN, "Content-Type": "application/json"}
    body = error_of(frontend.client.post("/cigars/", content='{"name": bad', headers=headers), 400)
    assert body["detail"].startswith("the request body is not valid JSON")
    body = error_of(frontend.client.post("/cigars/", content="[]", headers=headers), 400)
    assert body["detail"] == "the request body must be a JSON object"


def test_service_errors_carry_error_too(frontend: Frontend) -> None:
    body = error_of(frontend.client.get("/cigars/999999999", headers={"Origin": ORIGIN}), 404)
    assert body["error"] and body["code"] == 5
    body = error_of(frontend.client.get("/users/me/", headers={"Origin": ORIGIN}), 401)
    assert body["error"] == "invalid_token"


# --- caching -------------------------------------------------------------------------------------------------


def test_get_cigar_has_a_strong_etag_and_a_matching_if_none_match_is_304(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    created = frontend.client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(token))
    path = created.headers["location"]
    first = frontend.client.get(path)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]{16}"', etag) and first.headers["cache-control"] == "no-cache"
    again = frontend.client.get(path, headers={"If-None-Match": etag, "Origin": ORIGIN})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert again.headers["access-control-allow-origin"] == ORIGIN
    frontend.client.patch(path, json={"rating": 5}, headers=auth(token))
    changed = frontend.client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["rating"] == 5 and changed.headers["etag"] != etag


def test_users_me_is_private_and_revalidated(frontend: Frontend) -> None:
    _, token = frontend.token_for_new_user()
    first = frontend.client.get("/users/me/", headers=auth(token))
    assert first.headers["cache-control"] == "private, no-cache"
    again = frontend.client.get("/users/me/", headers={**auth(token), "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    frontend.client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(token))
    after = frontend.client.get("/users/me/", headers={**auth(token), "If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and len(after.json()["cigars"]) == 1


def test_the_public_list_is_public_and_short_lived(frontend: Frontend, brand) -> None:
    name, _, _ = brand
    response = frontend.client.get("/cigars/", params={"brand": name})
    assert response.headers["cache-control"].startswith("public, max-age=1")
    assert frontend.client.get("/cigars/", params={"brand": name},
                               headers={"If-None-Match": response.headers["etag"]}).status_code == 304  # fmt: skip


@pytest.mark.parametrize("path", ["/cigars/", "/cigars/{id}", "/users/me/"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_cacheable_answer_varies_by_origin(frontend: Frontend, path: str, encoding: str) -> None:
    """Access-Control-Allow-Origin names the asking origin, so a cache (the browser's, or a shared one for the
    public list) that kept one origin's answer must not hand it to another: Vary: Origin, on the 304 too."""
    _, token = frontend.token_for_new_user()
    created = frontend.client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(token))
    path = path.format(id=created.json()["id"])
    with httpx.Client(base_url=str(frontend.client.base_url), timeout=10) as raw:
        for origin in ({}, {"Origin": ORIGIN}):
            headers = {**auth(token), **origin, "Accept-Encoding": encoding}
            first = raw.get(path, headers=headers)
            again = raw.get(path, headers={**headers, "If-None-Match": first.headers["etag"]})
            for response in (first, again):
                varies = {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
                assert "origin" in varies, (response.status_code, response.headers)
            assert (first.status_code, again.status_code) == (200, 304)


@pytest.mark.parametrize("path", ["/cigars/", "/cigars/{id}", "/users/me/", "/.well-known/jwks.json"])
def test_head_answers_every_get_path_without_a_body(frontend: Frontend, path: str) -> None:
    _, token = frontend.token_for_new_user()
    created = frontend.client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(token))
    path = path.format(id=created.json()["id"])
    get = frontend.client.get(path, headers=auth(token))
    head = frontend.client.head(path, headers=auth(token))
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers.get("etag") == get.headers.get("etag")
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", ["/cigars/", "/cigars/{id}", "/users/me/", "/.well-known/jwks.json", "/cigars/0"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_head_answer_leaves_the_connection_clean_for_the_next_request(
    frontend: Frontend, path: str, encoding: str
) -> None:
    """A HEAD answer is headers only: a body byte after them would be read as the start of the next answer on
    the same keep-alive connection (it once was: `illegal status line: b'[]HTTP/1.1 200 OK'`)."""
    _, token = frontend.token_for_new_user()
    created = frontend.client.post("/cigars/", json={"name": "n", "brand": "b", "rating": 3}, headers=auth(token))
    path = path.format(id=created.json()["id"])
    headers = {**auth(token), "Accept-Encoding": encoding}
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=str(frontend.client.base_url), timeout=10, limits=one) as client:
        get = client.get(path, headers=headers)
        for _ in range(3):
            head = client.head(path, headers=headers)
            assert (head.status_code, head.content) == (get.status_code, b"")
            after = client.get("/cigars/", params={"limit": 1})
            assert after.status_code == 200 and isinstance(after.json(), list)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/openapi.json", "application/json"),
        ("/docs", "text/html; charset=utf-8"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/users/me/cigars/export", "text/csv; charset=utf-8"),  # a media type with a parameter
    ],
)
def test_every_text_answer_is_compressed_whatever_its_parameters(
    frontend: Frontend, path: str, media_type: str
) -> None:
    _, token = frontend.token_for_new_user()
    for number in range(10 if path.endswith("/export") else 0):  # over the 256 bytes below which nothing is
        cigar = {"name": f"Cigar {number}", "brand": "A brand long enough", "rating": 3}  # compressed
        assert frontend.client.post("/cigars/", json=cigar, headers=auth(token)).status_code == 201
    with httpx.Client(base_url=str(frontend.client.base_url), timeout=10) as raw:
        response = raw.get(path, headers={**auth(token), "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-type"] == media_type
    assert response.headers.get("content-encoding") == "gzip", response.headers


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compressed_for_clients_that_ask_with_a_weak_etag(frontend: Frontend, brand, encoding: str) -> None:
    name, _, _ = brand
    plain = frontend.client.get("/cigars/", params={"brand": name}, headers={"Accept-Encoding": "identity"})
    with httpx.Client(base_url=str(frontend.client.base_url), timeout=10) as raw:
        response = raw.get("/cigars/", params={"brand": name}, headers={"Accept-Encoding": encoding})
        assert response.headers["content-encoding"] == encoding
        assert "accept-encoding" in response.headers["vary"].lower()
        assert response.json() == plain.json()  # httpx decodes gzip and (with brotli installed) br
        assert response.headers["etag"] == "W/" + plain.headers["etag"]
        conditional = {"Accept-Encoding": encoding, "If-None-Match": response.headers["etag"]}
        revalidated = raw.get("/cigars/", params={"brand": name}, headers=conditional)
        assert revalidated.status_code == 304
        assert "grpc-status" not in response.headers


def test_gzip_bytes_are_gzip(running: Running, brand) -> None:
    name, _, _ = brand
    with httpx.Client(timeout=10) as client, client.stream("GET", f"{running.url}/cigars/", params={"brand": name},
                       headers={"Accept-Encoding": "gzip"}) as response:  # fmt: skip
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw).startswith(b"[{")


# --- a backend down: the 503 names it, in the error shape, with CORS --------------------------------------------
# On a stack of its own (SQLite: what is down is a process, not the database engine).


@pytest.fixture(scope="module")
def stack_to_break(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("unavailable")
    config = StackConfig.on_free_ports(var, extra_env=MANY_REGISTRATIONS)
    with running(config, var / "stack.log") as stack:
        yield stack


def test_a_503_says_which_service_is_down_in_words(stack_to_break: Stack) -> None:
    headers = {"Origin": ORIGIN}
    with httpx.Client(base_url=stack_to_break.base_url, timeout=10, headers=headers, event_hooks=HOOKS) as client:
        frontend = Frontend(client)
        user_id, token = frontend.token_for_new_user()
        stop_service(stack_to_break, "collection_service")
        for response in (client.get("/cigars/"), client.get(f"/cigars/{user_id}")):
            body = error_of(response, 503)
            assert body["error"] == "unavailable" and "collection service" in body["detail"]
            assert "upstream" not in body["detail"] and "reset" not in body["detail"]
        me = error_of(client.get("/users/me/", headers=auth(token)), 503)  # auth_service's own answer
        assert me["error"] == "unavailable"
        stop_service(stack_to_break, "auth_service")
        body = error_of(client.post("/token", data={"username": "a", "password": "b"}), 503)
        assert "auth service" in body["detail"] and "upstream" not in body["detail"]


def test_the_error_check_refuses_a_body_outside_the_document(frontend: Frontend) -> None:
    """The hook that checks every error of the e2e tests can fail: a bare {"detail"} (the old shape) does."""
    request = httpx.Request("GET", frontend.client.base_url.join("/cigars/1"))
    old_shape = httpx.Response(404, json={"detail": "Not Found"}, request=request)
    with pytest.raises(AssertionError, match="'error' is a required property"):
        check_error(old_shape)
    untyped = httpx.Response(400, json={"error": "x", "detail": "y", "details": [{"@type": "a"}]}, request=request)
    with pytest.raises(AssertionError):
        check_error(untyped)
    without_description = {"error": "not_found", "detail": "no such path: /x"}
    with pytest.raises(AssertionError, match="'error_description' is a required property"):
        check_error(httpx.Response(404, json=without_description, request=request))
    shaped = {**without_description, "error_description": "no such path: /x"}
    check_error(httpx.Response(404, json=shaped, request=request))
