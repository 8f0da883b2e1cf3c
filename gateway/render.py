"""Fill gateway/envoy.yaml.tmpl from the environment: `python -m gateway.render OUT_FILE`."""

from __future__ import annotations

import os
import string
import sys
from collections.abc import Mapping
from pathlib import Path

GATEWAY_DIR = Path(__file__).resolve().parent
TEMPLATE = GATEWAY_DIR / "envoy.yaml.tmpl"

DEFAULTS = {
    "GATEWAY_HOST": "127.0.0.1",
    "GATEWAY_PORT": "8000",
    "ENVOY_ADMIN_PORT": "9901",
    "AUTH_HOST": "127.0.0.1",
    "AUTH_PORT": "50051",
    "COLLECTION_HOST": "127.0.0.1",
    "COLLECTION_PORT": "50052",
    "CORS_ALLOW_ORIGIN_REGEX": ".*",
    "TOKEN_RATE_LIMIT_BURST": "300",  # POST /token per client address per minute (auth_service throttles finer)
    "REGISTRATION_RATE_LIMIT_BURST": "20",  # POST /users/ per client address per hour
    # proxies in front of Envoy that append to x-forwarded-for and are trusted to (0: Envoy is the edge)
    "GATEWAY_XFF_TRUSTED_HOPS": "0",
    # the secret shared with auth_service (AUTH_GATEWAY_SECRET_FILE), with which Envoy vouches for client addresses
    "GATEWAY_SECRET_FILE": "",
    "GATEWAY_DIR": str(GATEWAY_DIR),
}
SECRET_MIN_LENGTH = 32
SECRET_CHARACTERS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


class GatewayConfigError(Exception):
    """A setting of the gateway cannot be used; the message names it."""


def read_secret(path: str) -> str:
    if not path:
        raise GatewayConfigError("GATEWAY_SECRET_FILE: not set; point it at the file auth_service reads too")
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise GatewayConfigError(f"GATEWAY_SECRET_FILE: cannot read {path}: {exc.strerror}") from None
    # Written into the Envoy config as a header value: letters, digits, '-' and '_' only.
    if len(secret) < SECRET_MIN_LENGTH or not set(secret) <= SECRET_CHARACTERS:
        raise GatewayConfigError(
            f"GATEWAY_SECRET_FILE: {path} holds no secret of {SECRET_MIN_LENGTH}+ letters, digits, '-' or '_'"
        )
    return secret


def render(env: Mapping[str, str] | None = None, secret: str | None = None) -> str:
    """The config with every placeholder filled: the environment wins over DEFAULTS. The gateway secret is read
    from GATEWAY_SECRET_FILE unless given (checks of the deployment files render without the real file)."""
    env = os.environ if env is None else env
    values = {key: env.get(key) or default for key, default in DEFAULTS.items()}
    values["GATEWAY_SECRET"] = secret if secret is not None else read_secret(values["GATEWAY_SECRET_FILE"])
    return string.Template(TEMPLATE.read_text()).substitute(values)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gateway.render OUT_FILE", file=sys.stderr)
        return 2
    try:
        Path(argv[0]).write_text(render())
    except GatewayConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
