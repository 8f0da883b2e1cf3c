"""Settings of collection_service, read once from the environment (prefix COLLECTION_) at the entrypoint."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from service_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Besides these, the settings every service has (service_kit.settings): host, workers, logs, metrics, ..."""

    model_config = SettingsConfigDict(env_prefix="COLLECTION_", extra="ignore")

    port: int = Field(50052, ge=0, le=65535, description="gRPC port; 0 picks a free one")
    database_url: str = "sqlite+aiosqlite:///var/collection.db"
    auth_service_addr: str = "127.0.0.1:50051"
    issuer: str = "cigar-auth"
    audience: str = "cigar-api"
    # the audience of auth_service's short-lived account-deletion tokens (DeleteMyCigars only)
    deletion_audience: str = "cigar-account-deletion"
    jwks_min_refresh_seconds: float = Field(5.0, ge=0, description="at most one JWKS fetch per this many seconds")
    jwks_refresh_seconds: float = Field(60.0, gt=0, description="background JWKS refresh period")
    # how soon a password change recorded by another process (worker, replica) revokes tokens here too
    revocation_refresh_seconds: float = Field(2.0, gt=0, description="token revocations catch-up period")
