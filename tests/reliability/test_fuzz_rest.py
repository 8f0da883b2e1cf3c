"""Promise 4a, arbitrary input through the gateway: whatever a client sends to any REST operation, the answer
is below 500, and every 4xx is JSON with a `detail` string. (A gRPC-Web call on a service's path is answered
in gRPC-Web: its grpc-status is checked instead.)"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability import strategies as s
from tests.reliability.conftest import Reliability, new_user
from tests.reliability.traffic import FIGURES, has_json_detail

# Cases per operation; 12 operations x 100 = 1,200 in the regular run. CIGAR_FUZZ_EXAMPLES=2000 digs deeper.
EXAMPLES = int(os.environ.get("CIGAR_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True
)
CASES: Counter[str] = Counter()

USER_FIELDS = ["username", "email", "password"]
USER_VALID = {
    "username": st.from_regex(r"\A[a-z0-9_.-]{3,32}\Z"),
    "email": st.emails(),
    "password": st.text(min_size=8, max_size=40),
}
CIGAR_FIELDS = ["name", "brand", "origin", "flavor_notes", "rating"]
CIGAR_VALID = {f: st.text(min_size=1, max_size=100) for f in CIGAR_FIELDS[:4]} | {"rating": st.integers(1, 5)}
TOKEN_FIELDS = ["grant_type", "username", "password", "scope", "client_id", "client_secret"]
FORM = st.dictionaries(st.sampled_from(TOKEN_FIELDS) | st.text(max_size=8), s.texts, max_size=7).map(
    lambda form: "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in form.items()).encode()
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: st.SearchStrategy[str]
    body: st.SearchStrategy[bytes] | None = None


def path(template: str) -> st.SearchStrategy[str]:
    """The documented path, sometimes without its trailing slash, {id} filled with hostile ids."""
    variants = st.sampled_from([template, template.rstrip("/"), template + "/"])
    return st.tuples(variants, s.cigar_ids).map(lambda p: p[0].replace("{id}", p[1]))


OPERATIONS = {
    "register": Operation("POST", path("/users/"), s.bodies(USER_FIELDS, USER_VALID)),
    "token (form)": Operation("POST", path("/token"), st.one_of(FORM, st.binary(max_size=300))),
    "token (json)": Operation("POST", path("/token"), s.bodies(TOKEN_FIELDS, {})),
    "me": Operation("GET", path("/users/me/")),
    "list cigars": Operation("GET", path("/cigars/")),
    "create cigar": Operation("POST", path("/cigars/"), s.bodies(CIGAR_FIELDS, CIGAR_VALID)),
    "get cigar": Operation("GET", path("/cigars/{id}")),
    "update cigar": Operation("PATCH", path("/cigars/{id}"), s.bodies(CIGAR_FIELDS, CIGAR_VALID)),
    "delete cigar": Operation("DELETE", path("/cigars/{id}")),
    "jwks": Operation("GET", path("/.well-known/jwks.json")),
    "grpc paths": Operation(
        st.sampled_from(["GET", "POST"]),  # type: ignore[arg-type]
        st.sampled_from(["/cigar.auth.v1.AuthService/", "/cigar.collection.v1.CollectionService/"]).flatmap(
            lambda service: st.sampled_from(
                ["Token", "CreateUser", "GetMe", "ListCigars", "CreateCigar", "ListMyCigars", "Nope"]
            ).map(lambda m: service + m)  # fmt: skip
        ),
        s.bodies([], {}),
    ),
    "anything else": Operation(
        st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),  # type: ignore[arg-type]
        s.texts.map(lambda t: "/" + quote(t)),
        s.bodies([], {}),
    ),
}


@pytest.fixture(scope="module")
def client(reliability: Reliability) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=reliability.url, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def token(client: httpx.Client) -> str:
    return new_user(client)[1]


def check(response: httpx.Response) -> None:
    request = f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:300]!r}"
    if response.headers.get("content-type", "").startswith("application/grpc-web"):
        # A gRPC-Web call on a service's path (the grpc_web filter): its outcome is grpc-status, as a gRPC call's
        # is (a GET, which the service resets, is UNAVAILABLE with a 503; with gRPC's own content type a 200).
        in_trailers = re.search(rb"grpc-status:(\d+)", response.content)  # the last frame of a reply with a body
        status = response.headers.get("grpc-status") or (in_trailers and in_trailers.group(1).decode())
        assert status and int(status) not in (2, 13), request  # never UNKNOWN or INTERNAL
        return
    assert response.status_code < 500, request
    if response.status_code >= 400:
        assert has_json_detail(response), request


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_no_input_to_any_rest_operation_gets_a_5xx_and_every_4xx_has_a_json_detail(
    client: httpx.Client, token: str, name: str
) -> None:
    op = OPERATIONS[name]

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        method = op.method if isinstance(op.method, str) else data.draw(op.method)
        headers = data.draw(s.odd_headers)
        authorization = data.draw(s.authorizations(token))
        if authorization is not None:
            headers["authorization"] = authorization
        body = data.draw(op.body) if op.body is not None else None
        if body is not None:
            headers["content-type"] = data.draw(s.CONTENT_TYPES)
        params = data.draw(s.queries) if method == "GET" else None
        try:
            response = client.request(method, data.draw(op.path), content=body, headers=headers, params=params)
        except httpx.LocalProtocolError:  # httpx itself refused to send it (e.g. a header value it cannot encode)
            return
        CASES[name] += 1
        check(response)

    fuzz()
    assert CASES[name] >= EXAMPLES * 0.8, f"only {CASES[name]} cases of {name} were sent"
    FIGURES["REST fuzz: cases sent (all operations) / 5xx / 4xx without detail"] = f"{CASES.total()} / 0 / 0"
