"""What every service's settings have. Each service subclasses it with its own env prefix and defaults, and
builds it once, at its entrypoint."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class ServiceSettings(BaseSettings):
    host: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535, description="gRPC port; 0 picks a free one")
    database_url: str
    rpc_timeout_seconds: float = Field(2.0, gt=0, description="deadline of every outgoing gRPC call")
    shutdown_grace_seconds: float = Field(5.0, ge=0)
    workers: int = Field(1, ge=1, le=64, description="server processes sharing the port (SO_REUSEPORT)")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per line")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port; 0 turns it off")
