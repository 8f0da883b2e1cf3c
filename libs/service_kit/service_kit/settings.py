"""What every service's settings have. Each service subclasses it with its own env prefix and defaults, and
builds it once, at its entrypoint."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings

SAMPLERS = Literal[
    "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
    "parentbased_traceidratio",
]  # fmt: skip
EXPORTERS = ("otlp", "console", "none")


def otel(*names: str) -> AliasChoices:
    """OpenTelemetry's own variable names, unprefixed: the same names the SDKs and the gateway read."""
    return AliasChoices(*names)


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
    # Traces (docs/operations.md, traces): the standard OpenTelemetry variables. Unlike the OpenTelemetry
    # default (otlp), an unset OTEL_TRACES_EXPORTER means none: tracing is off unless asked for, and then
    # the serving process never imports OpenTelemetry.
    otel_sdk_disabled: bool = Field(False, validation_alias=otel("OTEL_SDK_DISABLED"))
    otel_traces_exporter: str = Field("none", validation_alias=otel("OTEL_TRACES_EXPORTER"))
    otel_exporter_otlp_endpoint: str = Field(
        "http://localhost:4317",
        validation_alias=otel("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    otel_exporter_otlp_protocol: Literal["grpc"] = Field(
        "grpc", validation_alias=otel("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    )
    otel_service_name: str | None = Field(None, validation_alias=otel("OTEL_SERVICE_NAME"))
    otel_traces_sampler: SAMPLERS = Field("parentbased_always_on", validation_alias=otel("OTEL_TRACES_SAMPLER"))
    otel_traces_sampler_arg: float = Field(1.0, ge=0, le=1, validation_alias=otel("OTEL_TRACES_SAMPLER_ARG"))
    otel_bsp_schedule_delay: int = Field(5000, ge=1, validation_alias=otel("OTEL_BSP_SCHEDULE_DELAY"))  # ms

    @field_validator("otel_traces_exporter")
    @classmethod
    def _known_exporters(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in EXPORTERS]
        if unknown:
            raise ValueError(f"unknown exporter {', '.join(unknown)}: use otlp, console or none")
        return ",".join(names) or "none"

    @property
    def trace_exporters(self) -> list[str]:
        """The exporters spans go to; empty when tracing is off."""
        if self.otel_sdk_disabled:
            return []
        return [name for name in self.otel_traces_exporter.split(",") if name != "none"]
