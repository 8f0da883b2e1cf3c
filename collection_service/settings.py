"""Settings of collection_service, read once from the environment (prefix COLLECTION_) at the entrypoint."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COLLECTION_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(50052, ge=0, le=65535, description="gRPC port; 0 picks a free one")
    database_url: str = "sqlite+aiosqlite:///var/collection.db"
    auth_service_addr: str = "127.0.0.1:50051"
    issuer: str = "cigar-auth"
    audience: str = "cigar-api"
    # the audience of auth_service's short-lived account-deletion tokens (DeleteMyCigars only)
    deletion_audience: str = "cigar-account-deletion"
    rpc_timeout_seconds: float = Field(2.0, gt=0, description="deadline of every outgoing gRPC call")
    jwks_min_refresh_seconds: float = Field(5.0, ge=0, description="at most one JWKS fetch per this many seconds")
    jwks_refresh_seconds: float = Field(60.0, gt=0, description="background JWKS refresh period")
    shutdown_grace_seconds: float = Field(5.0, ge=0)
    workers: int = Field(1, ge=1, le=64, description="server processes sharing the port (SO_REUSEPORT)")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per line")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port; 0 turns it off")
