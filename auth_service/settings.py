"""Settings of auth_service, read once from the environment (prefix AUTH_) at the entrypoint."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from service_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Besides these, the settings every service has (service_kit.settings): host, workers, logs, metrics, ..."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free one")
    database_url: str = "sqlite+aiosqlite:///var/auth.db"
    private_key_file: Path = Field(Path("var/keys/auth_ed25519.pem"), description="PEM Ed25519 private key")
    issuer: str = "cigar-auth"
    audience: str = "cigar-api"
    # Short, since refresh tokens keep the session: it is also the longest a logged-out session's access token
    # still works (docs/security.md, the session table).
    access_token_expire_minutes: int = Field(
        10,
        ge=1,
        le=24 * 60,
        validation_alias=AliasChoices("AUTH_ACCESS_TOKEN_EXPIRE_MINUTES", "ACCESS_TOKEN_EXPIRE_MINUTES"),
    )
    access_token_expire_seconds: int | None = Field(
        None, ge=1, le=24 * 3600, description="overrides the minutes when set (tests of expiry use a few seconds)"
    )
    # Sessions (refresh token families): Auth0's defaults. A refresh token unused for the idle time stops working;
    # no session outlives the absolute lifetime, however active.
    refresh_idle_days: float = Field(15.0, gt=0)
    refresh_absolute_days: float = Field(30.0, gt=0)

    @property
    def access_token_lifetime(self) -> timedelta:
        if self.access_token_expire_seconds is not None:
            return timedelta(seconds=self.access_token_expire_seconds)
        return timedelta(minutes=self.access_token_expire_minutes)

    @property
    def retired_key_retention(self) -> timedelta:
        """How long a retired key still verifies: two token lifetimes, so that a replica restarted up to one
        lifetime after the rotation (still signing with the old key until then) is covered too."""
        return 2 * self.access_token_lifetime

    collection_service_addr: str = "127.0.0.1:50052"
    hash_workers: int | None = Field(
        None, ge=1, description="threads hashing passwords off the event loop; default: cores / workers"
    )
    # The secret Envoy sends with the client address it decided (api/peer.py); unset, every caller is counted
    # by its own address, which behind the gateway is the gateway's (docs/security.md, the trust model).
    gateway_secret_file: Path | None = None
    # Brute-force defence (app/throttle.py); Keycloak's defaults where they fit.
    throttle_delay_after: int = Field(3, ge=1)
    throttle_delay_step_seconds: float = Field(0.5, ge=0)
    throttle_max_delay_seconds: float = Field(3.0, ge=0)
    throttle_pair_lock_after: int = Field(5, ge=1)
    throttle_account_lock_after: int = Field(20, ge=1)
    throttle_address_lock_after: int = Field(100, ge=1)
    throttle_base_wait_seconds: float = Field(60.0, gt=0)
    throttle_max_wait_seconds: float = Field(900.0, gt=0)
    throttle_failure_reset_seconds: float = Field(12 * 3600.0, gt=0)
    # Pruning the counters (app/counter_pruning.py): how often, and how long an address that logged into an
    # account stays known (exempt from that account's lock) after its last successful login there.
    counter_prune_seconds: float = Field(3600.0, gt=0)
    known_address_days: float = Field(90.0, gt=0)
    # Account deletion: the outbox that deletes the cigars in collection_service
    deletion_audience: str = "cigar-account-deletion"
    outbox_poll_seconds: float = Field(5.0, gt=0)
    outbox_max_backoff_seconds: float = Field(300.0, gt=0)
    # Email verification
    allow_unverified_login: bool = True
    verification_token_hours: float = Field(24.0, gt=0)
    verification_link: str = "http://localhost:8000/verify?token={token}"
    # Password reset: how long a mailed token works, the link in the mail, and how many mails an account and a
    # client address may ask for per window (more: the account gets none, silently; the address is told 429).
    password_reset_minutes: float = Field(30.0, gt=0)
    password_reset_link: str = "http://localhost:8000/reset-password?token={token}"  # noqa: S105 (a URL)
    mail_limit_per_account: int = Field(3, ge=1, description="reset or verification mails per account per window")
    mail_limit_per_address: int = Field(10, ge=1, description="reset requests per client address per window")
    mail_limit_window_seconds: float = Field(3600.0, gt=0)
    # The API's public base URL, as clients reach it through the gateway: the issuer and endpoints of the
    # authorization server metadata (RFC 8414).
    public_url: str = "http://127.0.0.1:8000"
    # "production" (compose, Kubernetes and the image set it) refuses what is only for development: the log
    # sender, which writes every verification token to the log (adapters/mail.py).
    environment: Literal["development", "production"] = "development"
    email_sender: Literal["log", "smtp"] = "log"
    smtp_host: str = "localhost"
    smtp_port: int = Field(587, ge=1, le=65535)
    # starttls: upgrade on the submission port (587); implicit: TLS from the first byte (465); none: local relays
    # only, and never with a login. The server's certificate is always verified (AUTH_SMTP_CA_FILE: against
    # that CA bundle instead of the system's).
    smtp_tls: Literal["starttls", "implicit", "none"] = "starttls"
    smtp_ca_file: Path | None = None
    smtp_username: str = ""
    smtp_password_file: Path | None = Field(None, description="the SMTP password, read from this file at start")
    smtp_from: str = "Cigar Collection <no-reply@localhost>"
