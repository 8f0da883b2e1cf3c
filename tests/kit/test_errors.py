"""The error table: a service's errors become google.rpc statuses with the details clients read."""

from __future__ import annotations

from dataclasses import dataclass

from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from service_kit.errors import ErrorTable


@dataclass
class Violation:
    field: str
    description: str


class Refused(Exception):
    pass


class BadFields(Refused):
    def __init__(self) -> None:
        super().__init__("name: is required")
        self.violations = [Violation("name", "is required"), Violation("rating", "must be from 1 to 5")]


class SlowDown(Refused):
    def __init__(self) -> None:
        super().__init__("try again in 30 seconds")
        self.retry_after = 30


TABLE = ErrorTable(
    "orders.example",
    {BadFields: (code_pb2.INVALID_ARGUMENT, "invalid_request"), SlowDown: (code_pb2.RESOURCE_EXHAUSTED, "slow_down")},
    default=(code_pb2.FAILED_PRECONDITION, "refused"),
)


def details(exc: Exception) -> tuple[status_pb2.Status, list[object]]:
    status = TABLE.status(exc)
    [(_, raw)] = status.trailing_metadata
    parsed = status_pb2.Status.FromString(raw)
    found = []
    for any_ in parsed.details:
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.RetryInfo):
            if any_.Is(kind.DESCRIPTOR):
                message = kind()
                any_.Unpack(message)
                found.append(message)
    return parsed, found


def test_field_violations_become_a_bad_request_beside_the_reason() -> None:
    status, found = details(BadFields())
    assert (status.code, status.message) == (code_pb2.INVALID_ARGUMENT, "name: is required")
    info, bad = found
    assert (info.reason, info.domain) == ("invalid_request", "orders.example")
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("name", "is required"), ("rating", "must be from 1 to 5")]  # fmt: skip


def test_a_retry_delay_becomes_retry_info() -> None:
    status, found = details(SlowDown())
    assert status.code == code_pb2.RESOURCE_EXHAUSTED
    info, retry = found
    assert info.reason == "slow_down" and retry.retry_delay.seconds == 30


def test_an_error_missing_from_the_table_gets_the_default() -> None:
    status, [info] = details(Refused("no"))
    assert (status.code, info.reason, status.message) == (code_pb2.FAILED_PRECONDITION, "refused", "no")
    assert rpc_status.to_status(status).code.name == "FAILED_PRECONDITION"
