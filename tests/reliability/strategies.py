"""Hypothesis strategies for hostile REST requests: malformed JSON, wrong types, huge and unicode strings,
huge numbers, missing and extra fields, odd headers, bad tokens."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from hypothesis import strategies as st

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "🚬" * 30,
    "Ω" * 2001,
    "x" * 101,
    "'; DROP TABLE cigars; --",
    "<script>alert(1)</script>",
    "\u202e\u0301",
    "null",
    "0",
    "-1",
    "1e309",
    "%00",
    "../../etc/passwd",
    "\r\n",
    "\ufeff",
    "\U0010ffff",
    "p" * 4097,  # one past the longest password passlib checks (it raised PasswordSizeError)
]
texts = st.one_of(st.text(max_size=40), st.text(min_size=90, max_size=2500), st.sampled_from(NASTY))
numbers = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(),  # unbounded: 2**64, 10**40 ...
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 5, 6, -1, 2**31, -(2**31) - 1, 2**63, 1.5, 1e308]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
field_values = st.one_of(texts, numbers, json_values)


def json_objects(fields: list[str], valid: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    """Objects with any subset of `fields` (sometimes well-typed, often not) plus extra unknown fields."""
    known = st.fixed_dictionaries({}, optional={f: st.one_of(valid.get(f, field_values), field_values) for f in fields})
    extra = st.dictionaries(st.text(max_size=12), json_values, max_size=2)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


def encode(value: object) -> bytes:
    # allow_nan stays on and lone surrogates pass through: both make JSON a strict parser must refuse.
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def bodies(fields: list[str], valid: dict[str, st.SearchStrategy]) -> st.SearchStrategy[bytes]:
    """Mostly JSON objects; also other JSON values, truncated JSON and raw bytes."""
    objects = json_objects(fields, valid).map(encode)
    return st.one_of(
        objects,
        objects,
        json_values.map(encode),
        st.tuples(objects, st.integers(min_value=0, max_value=40)).map(lambda p: p[0][: p[1]]),
        st.binary(max_size=300),
    )


CONTENT_TYPES = st.one_of(
    st.sampled_from(["application/json", "application/json", "application/x-www-form-urlencoded", "text/plain",
                     "application/json; charset=utf-16", "multipart/form-data; boundary=x", "application/grpc",
                     "application/grpc-web+proto", "*/*", ""]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
)  # fmt: skip


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def authorizations(valid_token: str) -> st.SearchStrategy[str | None]:
    header, payload, signature = valid_token.split(".")
    # stripped: HTTP/1.1 cannot carry leading or trailing blanks in a header value (h11 refuses to send them)
    ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300).map(str.strip)
    none_alg = _b64(b'{"alg":"none","typ":"JWT"}') + "." + payload + "."
    hs256 = _b64(b'{"alg":"HS256","typ":"JWT","kid":"x"}') + "." + payload + "." + signature
    return st.one_of(
        st.none(),
        st.just(f"Bearer {valid_token}"),
        ascii_text,
        ascii_text.map(lambda t: f"Bearer {t}".strip()),
        st.sampled_from(
            [
                f"Bearer {none_alg}",
                f"Bearer {hs256}",
                f"Bearer {header}.{payload}.{signature[::-1]}",
                f"bearer {valid_token}",
                f"Bearer  {valid_token}",
                f"Bearer {valid_token}x",
                f"Basic {valid_token}",
                "Bearer",
                "Bearer x",
                f"Bearer {header}.{payload}",
                "Bearer " + "a" * 20_000,  # past gRPC's default metadata limit, under Envoy's 32 KiB
                "Bearer " + "a" * 40_000,  # past Envoy's: 431
            ]
        ),  # fmt: skip
        st.binary(min_size=1, max_size=60).map(lambda b: f"Bearer {_b64(b)}.{_b64(b)}.{_b64(b)}"),
    )


HEADER_NAMES = st.one_of(
    st.sampled_from(["accept", "accept-encoding", "content-encoding", "x-forwarded-for", "origin", "x-request-id",
                     "te", "grpc-timeout", "expect", "x-http-method-override", "cookie", "x-envoy-retry-on",
                     "x-envoy-upstream-rq-timeout-ms", "access-control-request-method", "x_underscore",
                     "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "x-trace-bin", "grpc-status"]),
    st.from_regex(r"\Ax-[a-z0-9-]{1,20}\Z"),
    st.from_regex(r"\A(grpc-)?[a-z0-9-]{1,12}(-bin)?\Z"),
)  # fmt: skip
# What HTTP/1.1 can carry (h11 refuses leading or trailing blanks): printable ASCII and raw high bytes.
HEADER_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200).map(str.strip),
    st.binary(max_size=40).map(lambda b: bytes(c for c in b if c >= 0x80 or 0x21 <= c < 0x7F)),
    st.sampled_from(["gzip", "1S", "-1m", "xx", "100-continue", "0", "GET", "DELETE", "5xx", "99999999", "!!!"]),
)
odd_headers = st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=3)

cigar_ids = st.one_of(
    st.integers(min_value=0, max_value=60).map(str),  # ids that exist, someone's or the caller's own
    st.integers(min_value=-(2**63), max_value=2**64).map(str),
    texts.map(lambda t: quote(t, safe="")),
    st.sampled_from(["1", "0", "-1", "999999999999", "1.5", "abc", "%2F", "..", "1;DROP", "%00"]),
)
QUERY_NAMES = ["skip", "limit", "offset", "page", "limit[]", "brand", "origin", "q", "min_rating", "page_token"]
# page tokens of deeply nested JSON: json.loads recursed into them (RecursionError)
NESTED_TOKENS = [_b64(b"[" * depth + b"]" * depth) for depth in (100, 1500, 5000)] + [_b64(b'{"after":' * 2000)]
queries = st.dictionaries(
    st.sampled_from(QUERY_NAMES) | st.text(max_size=6),
    st.one_of(numbers.map(str), texts, st.sampled_from(NESTED_TOKENS)),
    max_size=3,
)
