"""Fill gateway/envoy.yaml.tmpl from the environment: `python -m gateway.render OUT_FILE`."""

from __future__ import annotations

import os
import re
import string
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

GATEWAY_DIR = Path(__file__).resolve().parent
TEMPLATE = GATEWAY_DIR / "envoy.yaml.tmpl"

DEFAULTS = {
    "GATEWAY_HOST": "127.0.0.1",
    "GATEWAY_PORT": "8000",
    "ENVOY_ADMIN_PORT": "9901",
    "ENVOY_METRICS_PORT": "0",  # Envoy's stats for other hosts (/stats/prometheus only); 0: none, ask the admin
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
    # Seconds the gateway's micro-cache keeps the public list (GET /cigars/); 0: off (docs/frontend.md says why)
    "GATEWAY_MICROCACHE_SECONDS": "0",
}
SECRET_MIN_LENGTH = 32
SECRET_CHARACTERS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
# The standard OpenTelemetry variables the gateway reads, with the meaning and defaults the services give them
# (service_kit/settings.py): no exporter, no traces.
TRACING = {
    "OTEL_SDK_DISABLED": "false",
    "OTEL_TRACES_EXPORTER": "none",  # traces only with otlp: Envoy has no console exporter
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",  # wins over the one above, as in the SDKs
    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    "OTEL_SERVICE_NAME": "gateway",
    "OTEL_TRACES_SAMPLER": "parentbased_always_on",
    "OTEL_TRACES_SAMPLER_ARG": "1.0",
    "OTEL_BSP_SCHEDULE_DELAY": "5000",  # ms between exports
}
SAMPLERS = {"always_on", "always_off", "traceidratio"}


def sampling_percent(sampler: str, argument: str) -> float:
    """OTEL_TRACES_SAMPLER as the percentage of requests Envoy's random sampling picks. Envoy 1.40 traces a
    request only if it picks it and, when it comes with a traceparent, its sampled flag is set: a caller's
    unsampled trace stays unsampled (as parentbased_ samplers do), but a sampled one is sampled again at the
    ratio (a ParentBased sampler would keep it). tests/e2e/test_traces.py checks the unsampled case."""
    root = sampler.removeprefix("parentbased_")
    if root not in SAMPLERS:
        raise ValueError(f"OTEL_TRACES_SAMPLER: unknown sampler {sampler}")
    if root != "traceidratio":
        return 100.0 if root == "always_on" else 0.0
    ratio = float(argument)
    if not 0 <= ratio <= 1:
        raise ValueError(f"OTEL_TRACES_SAMPLER_ARG: {argument} is not a ratio between 0 and 1")
    return ratio * 100


def tracing_values(values: Mapping[str, str]) -> tuple[bool, dict[str, str]]:
    """Whether Envoy traces, and the placeholders of its tracer: the collector's address and the sampling."""
    exporters = {name.strip() for name in values["OTEL_TRACES_EXPORTER"].split(",")}
    on = "otlp" in exporters and values["OTEL_SDK_DISABLED"].lower() != "true"
    if values["OTEL_EXPORTER_OTLP_PROTOCOL"] != "grpc":
        raise ValueError("OTEL_EXPORTER_OTLP_PROTOCOL: only grpc is supported")
    endpoint = urlsplit(values["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] or values["OTEL_EXPORTER_OTLP_ENDPOINT"])
    if on and (endpoint.scheme != "http" or not endpoint.hostname):
        raise ValueError("OTEL_EXPORTER_OTLP_ENDPOINT: an http://HOST:PORT URL (plain-text gRPC) is needed")
    return on, {
        "OTLP_HOST": endpoint.hostname or "localhost",
        "OTLP_PORT": str(endpoint.port or 4317),
        "TRACE_SAMPLING_PERCENT": str(
            sampling_percent(values["OTEL_TRACES_SAMPLER"], values["OTEL_TRACES_SAMPLER_ARG"])
        ),  # fmt: skip
        "OTEL_BSP_SCHEDULE_DELAY": str(int(values["OTEL_BSP_SCHEDULE_DELAY"])),
    }


MICROCACHE_MAX_SECONDS = 60


def microcache_seconds(value: str) -> int:
    """GATEWAY_MICROCACHE_SECONDS: how long rest_compat.lua keeps a page of the public list; 0 turns it off."""
    if not value.isdigit() or int(value) > MICROCACHE_MAX_SECONDS:
        raise ValueError(f"GATEWAY_MICROCACHE_SECONDS: {value!r} is not a whole number of seconds from 0 (off) to 60")
    return int(value)


def switch(text: str, section: str, on: bool) -> str:
    """Uncomment the template's lines of `section` ("#[section] ...") when it is on; else they stay comments."""
    return re.sub(rf"^(\s*)#\[{section}\] ", r"\1", text, flags=re.MULTILINE) if on else text


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
    values = {key: env.get(key) or default for key, default in {**DEFAULTS, **TRACING}.items()}
    values["GATEWAY_SECRET"] = secret if secret is not None else read_secret(values["GATEWAY_SECRET_FILE"])
    tracing, derived = tracing_values(values)
    derived["GATEWAY_MICROCACHE_SECONDS"] = str(microcache_seconds(values["GATEWAY_MICROCACHE_SECONDS"]))
    text = switch(TEMPLATE.read_text(), "tracing", tracing)
    text = switch(text, "metrics", int(values["ENVOY_METRICS_PORT"]) != 0)
    return string.Template(text).substitute({**values, **derived})


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
