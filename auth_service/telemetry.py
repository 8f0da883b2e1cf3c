"""Request ids across services and log lines: a contextvar per RPC, a logging filter, text or JSON output."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import grpc

SERVICE = "auth_service"
REQUEST_ID_HEADER = "x-request-id"  # set by Envoy on every request (generate_request_id)
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
RECORD_FIELDS = ("grpc_method", "grpc_code", "duration_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps every record with the request id of the RPC that logs it ("-" outside any RPC)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Only the message is free text, and no code logs a secret into it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": SERVICE,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key in RECORD_FIELDS:  # structured fields passed as `extra=` (the per-RPC line)
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Plain text for development, JSON lines for log collectors; both carry the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class ForwardRequestId(grpc.aio.UnaryUnaryClientInterceptor):
    """Outgoing calls carry the current request id, so the next service logs under the same id."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        request_id = REQUEST_ID.get()
        if request_id != "-":
            metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
            metadata[REQUEST_ID_HEADER] = request_id
            client_call_details = client_call_details._replace(metadata=metadata)
        return await continuation(client_call_details, request)
