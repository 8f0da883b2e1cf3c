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
    "GATEWAY_DIR": str(GATEWAY_DIR),
}


def render(env: Mapping[str, str] | None = None) -> str:
    """The config with every placeholder filled: the environment wins over DEFAULTS; none may stay empty."""
    env = os.environ if env is None else env
    values = {key: env.get(key) or default for key, default in DEFAULTS.items()}
    return string.Template(TEMPLATE.read_text()).substitute(values)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gateway.render OUT_FILE", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
