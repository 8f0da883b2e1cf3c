"""Settings of auth_service, read once from the environment (prefix AUTH_) at the entrypoint."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free one")
    database_url: str = "sqlite+aiosqlite:///var/auth.db"
    private_key_file: Path = Field(Path("var/keys/auth_ed25519.pem"), description="PEM Ed25519 private key")
    issuer: str = "cigar-auth"
    audience: str = "cigar-api"
    access_token_expire_minutes: int = Field(
        30,
        ge=1,
        le=24 * 60,
        validation_alias=AliasChoices("AUTH_ACCESS_TOKEN_EXPIRE_MINUTES", "ACCESS_TOKEN_EXPIRE_MINUTES"),
    )
    collection_service_addr: str = "127.0.0.1:50052"
    rpc_timeout_seconds: float = Field(2.0, gt=0, description="deadline of every outgoing gRPC call")
    shutdown_grace_seconds: float = Field(5.0, ge=0)
    hash_workers: int = Field(2, ge=1, description="threads that hash passwords off the event loop")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per line")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port; 0 turns it off")
