"""Log lines carry the request id, as text or one JSON object per line; outgoing calls forward the id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from service_kit.logs import configure_logging
from service_kit.request_ids import REQUEST_ID, ForwardRequestId

SERVICE = "orders_service"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def capture(fmt: str) -> io.StringIO:
    configure_logging(SERVICE, "INFO", fmt)
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)
    return stream


def test_json_lines_carry_the_request_id_the_service_and_the_rpc_fields() -> None:
    stream = capture("json")
    token = REQUEST_ID.set("req-42")
    try:
        fields = {"grpc_method": "/pkg.Svc/Do", "grpc_code": "OK", "duration_ms": 1.5}
        logging.getLogger("x").info("rpc %s", "done", extra=fields)
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("x").warning("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "req-42" and first["message"] == "rpc done" and first["service"] == SERVICE
    assert (first["grpc_method"], first["grpc_code"], first["duration_ms"]) == ("/pkg.Svc/Do", "OK", 1.5)
    assert second["request_id"] == "-" and second["level"] == "WARNING"


def test_json_lines_keep_a_traceback_on_one_line() -> None:
    stream = capture("json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    [line] = stream.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_text_lines_carry_the_request_id_in_brackets() -> None:
    stream = capture("text")
    token = REQUEST_ID.set("abc")
    try:
        logging.getLogger("x").info("hello")
    finally:
        REQUEST_ID.reset(token)
    assert " INFO x [abc] hello" in stream.getvalue()


async def test_outgoing_calls_carry_the_current_request_id() -> None:
    sent: list[Any] = []

    async def continuation(details: grpc.aio.ClientCallDetails, request: object) -> str:
        sent.append(details.metadata)
        return "reply"

    details = grpc.aio.ClientCallDetails("/pkg.Svc/Do", 1.0, (("authorization", "Bearer t"),), None, None)
    interceptor = ForwardRequestId()
    assert await interceptor.intercept_unary_unary(continuation, details, object()) == "reply"
    token = REQUEST_ID.set("req-7")
    try:
        await interceptor.intercept_unary_unary(continuation, details, object())
    finally:
        REQUEST_ID.reset(token)
    assert "x-request-id" not in dict(sent[0])
    assert dict(sent[1]) == {"authorization": "Bearer t", "x-request-id": "req-7"}
