"""The gateway serves /docs and /openapi.json, and answers every documented example as the document says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
DOC_FILE = ROOT / "gateway" / "generated" / "openapi.json"
DOC: dict[str, Any] = json.loads(DOC_FILE.read_text())
VERB_ORDER = ["post", "get", "put", "patch", "delete"]  # create first, so later examples find something


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def validate(schema: dict[str, Any], body: Any) -> None:
    Draft202012Validator({**schema, "components": DOC["components"]}).validate(body)


def documented_operations() -> list[tuple[str, str, dict[str, Any]]]:
    ops = [(path, verb, op) for path, item in DOC["paths"].items() for verb, op in item.items()]
    return sorted(ops, key=lambda o: VERB_ORDER.index(o[1]))


def collection_of(path: str) -> str:
    return path.split("{")[0].rstrip("/")


def example_request(path: str, op: dict[str, Any], token: str | None, created: dict[str, Any]) -> dict[str, Any]:
    """What Swagger UI's "Try it out" sends: path and query parameters, the first body type, the example.
    A path id is the one the create example of that collection answered (POST /cigars/ for /cigars/{id})."""
    params = {p["name"]: p["schema"]["default"] for p in op.get("parameters", []) if "default" in p["schema"]}
    for p in op.get("parameters", []):
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", str(created.get(collection_of(path), 1)))
    request: dict[str, Any] = {"url": path, "params": params, "headers": {}}
    if token and op.get("security"):
        request["headers"]["Authorization"] = f"Bearer {token}"
    if "requestBody" in op:
        content_type, media = next(iter(op["requestBody"]["content"].items()))
        example = resolve(media["schema"]).get("examples", [{}])[0]
        if content_type == "application/x-www-form-urlencoded":
            request["data"] = example
        elif content_type == "application/json":
            request["json"] = example
        else:  # a raw body (google.api.HttpBody): the example is its text
            request["content"] = example.encode()
            request["headers"]["Content-Type"] = content_type
    return request


def test_the_gateway_serves_the_generated_document_as_json(http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == DOC_FILE.read_bytes()


@pytest.mark.parametrize("path", ["/docs", "/docs/"])
def test_the_gateway_serves_swagger_ui_and_its_assets_without_a_cdn(http: httpx.Client, path: str) -> None:
    page = http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'url: "/openapi.json"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    for asset, kind in (("/docs/swagger-ui-bundle.js", "text/javascript"), ("/docs/swagger-ui.css", "text/css")):
        served = http.get(asset)
        assert served.status_code == 200 and served.headers["content-type"] == kind
        assert served.content == (ROOT / "gateway" / "swagger-ui" / asset.rsplit("/", 1)[1]).read_bytes()


def test_every_documented_example_gets_the_documented_answer(http: httpx.Client) -> None:
    token, created = None, {}
    for path, verb, op in documented_operations():
        if op.get("x-no-live-example"):  # the reason is in the document; another test covers the operation
            continue
        response = http.request(verb.upper(), **example_request(path, op, token, created))
        where = f"{verb.upper()} {path} -> {response.status_code} {response.text[:300]}"
        documented = op["responses"].get(str(response.status_code))
        hint = " (a new RPC? see its (cigar.rest.v1.route) option and EXAMPLES in scripts/openapi_rest.py)"
        assert documented is not None, f"undocumented status: {where}{hint}"
        success = next(s for s in op["responses"] if s.startswith("2"))
        assert str(response.status_code) == success, f"an example did not succeed: {where}{hint}"
        if "application/json" in documented.get("content", {}):
            validate(documented["content"]["application/json"]["schema"], response.json())
        elif "content" in documented:  # raw bytes: in one of the documented media types
            assert response.headers["content-type"].split(";")[0] in documented["content"], where
        for header, spec in documented.get("headers", {}).items():
            # a required header is on every such answer; the others (Link: absent on the last page) may be missing
            assert header.lower() in response.headers or not spec.get("required"), f"missing {header}: {where}"
        if op["operationId"] == "Token":
            token = response.json()["access_token"]
        if verb == "post" and response.status_code == 201 and "id" in response.json():  # a create, not an import
            created[collection_of(path)] = response.json()["id"]


def bounded_query_parameters() -> list[Any]:
    return [
        pytest.param(path, verb, p, id=f"{verb} {path} {p['name']}")
        for path, verb, op in documented_operations()
        for p in op.get("parameters", [])
        if p["in"] == "query" and ({"minimum", "maximum"} & set(p["schema"]))
    ]


@pytest.mark.parametrize(("path", "verb", "param"), bounded_query_parameters())
def test_documented_query_bounds_are_the_ones_the_gateway_enforces(
    http: httpx.Client, path: str, verb: str, param: dict[str, Any]
) -> None:
    error_schema = DOC["paths"][path][verb]["responses"]["400"]["content"]["application/json"]["schema"]
    name, low, high = param["name"], param["schema"].get("minimum"), param["schema"].get("maximum")
    for value in [v for v in (low, high) if v is not None]:
        assert http.request(verb.upper(), path, params={name: value}).status_code == 200, (name, value)
    outside = ([low - 1] if low is not None else []) + ([high + 1] if high is not None else [])
    for value in outside:
        response = http.request(verb.upper(), path, params={name: value})
        assert response.status_code == 400, (name, value, response.text)
        validate(error_schema, response.json())
        assert name in response.json()["detail"]


def test_the_documented_auth_of_each_operation_is_what_the_services_enforce(http: httpx.Client) -> None:
    """The route option's `auth` (documented as `security`) says whether a call without a token gets a 401."""
    created = {"/cigars": 1}  # any id: a call without a token is refused (or served) before the lookup
    for path, verb, op in documented_operations():
        request = example_request(path, op, None, created)
        if "json" in request and op["operationId"] == "CreateUser":
            request["json"] = {**request["json"], "username": "authprobe", "email": "authprobe@example.com"}
        response = http.request(verb.upper(), **request)
        where = f"{verb.upper()} {path} -> {response.status_code} {response.text[:200]}"
        if op.get("security"):
            assert response.status_code == 401, f"documented as needing a token, served without: {where}"
            assert response.headers["www-authenticate"] == "Bearer", where
        else:
            assert response.status_code != 401, f"documented as public, refused without a token: {where}"
