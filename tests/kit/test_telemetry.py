"""Tracing is switched by OpenTelemetry's own variables, and off (the default) costs no import of it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from opentelemetry.sdk.trace import sampling
from pydantic import ValidationError

from service_kit.settings import ServiceSettings
from service_kit.telemetry import Telemetry, telemetry
from service_kit.tracing import Tracing, sampler


def settings(**otel: str) -> ServiceSettings:
    return ServiceSettings(port=1, database_url="sqlite+aiosqlite:///x.db", **otel)  # type: ignore[arg-type]


def test_a_serving_process_without_an_exporter_never_imports_opentelemetry() -> None:
    code = (
        "import sys, auth_service.server, collection_service.server\n"
        "from service_kit.settings import ServiceSettings\n"
        "from service_kit.telemetry import telemetry\n"
        "t = telemetry(ServiceSettings(port=1, database_url='x'), 'x')\n"
        "assert not t.enabled\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    env = {"PATH": "/usr/bin:/bin"}  # no OTEL_* from the caller
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


def test_tracing_is_off_unless_an_exporter_is_named_and_off_again_when_the_sdk_is_disabled() -> None:
    assert type(telemetry(settings(), "svc")) is Telemetry
    assert type(telemetry(settings(OTEL_TRACES_EXPORTER="none"), "svc")) is Telemetry
    on = telemetry(settings(OTEL_TRACES_EXPORTER="console"), "svc")
    assert isinstance(on, Tracing) and on.provider.resource.attributes["service.name"] == "svc"
    named = telemetry(settings(OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="edge-auth"), "svc")
    assert isinstance(named, Tracing) and named.provider.resource.attributes["service.name"] == "edge-auth"
    disabled = settings(OTEL_TRACES_EXPORTER="otlp", OTEL_SDK_DISABLED="true")
    assert type(telemetry(disabled, "svc")) is Telemetry


def test_an_unknown_exporter_or_protocol_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="unknown exporter zipkin"):
        settings(OTEL_TRACES_EXPORTER="otlp,zipkin")
    with pytest.raises(ValidationError):
        settings(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")


@pytest.mark.parametrize(
    ("name", "described"),
    [
        ("always_on", "AlwaysOnSampler"),
        ("always_off", "AlwaysOffSampler"),
        ("traceidratio", "TraceIdRatioBased{0.01}"),
        ("parentbased_always_on", "ParentBased{root:AlwaysOnSampler,"),
        ("parentbased_traceidratio", "ParentBased{root:TraceIdRatioBased{0.01},"),
    ],
)
def test_the_sampler_is_the_one_otel_traces_sampler_names(name: str, described: str) -> None:
    chosen = sampler(settings(OTEL_TRACES_SAMPLER=name, OTEL_TRACES_SAMPLER_ARG="0.01"))
    assert isinstance(chosen, sampling.Sampler) and chosen.get_description().startswith(described)
