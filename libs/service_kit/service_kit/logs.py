"""Log output of a service: plain text for development, one JSON object per line for log collectors; both
carry the request id of the RPC that logged."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from .request_ids import RequestIdFilter

RECORD_FIELDS = ("grpc_method", "grpc_code", "duration_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Only the message is free text, and no code logs a secret into it."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
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


def configure_logging(service: str, level: str, fmt: str) -> None:
    """Every record of the process goes to stderr, as text or (fmt == "json") JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
