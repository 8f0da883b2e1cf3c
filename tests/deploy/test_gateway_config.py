"""The gateway's optional parts, rendered from the environment: the OpenTelemetry tracer and the stats listener."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.conftest import assert_envoy_accepts, envoy_config

TRACED = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4317",
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.01",
}


def connection_manager(config: dict, listener: str = "rest") -> dict:
    [found] = [entry for entry in config["static_resources"]["listeners"] if entry["name"] == listener]
    return found["filter_chains"][0]["filters"][0]["typed_config"]


def clusters(config: dict) -> dict[str, dict]:
    return {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}


def test_by_default_the_gateway_neither_traces_nor_listens_for_scrapers() -> None:
    config = envoy_config({})
    assert "tracing" not in connection_manager(config)
    assert set(clusters(config)) == {"auth_service", "collection_service"}
    assert [listener["name"] for listener in config["static_resources"]["listeners"]] == ["rest"]


@pytest.mark.parametrize("exporter", ["console", "none", "otlp"])
def test_only_an_otlp_exporter_turns_the_tracer_on_as_envoy_prints_no_spans(exporter: str) -> None:
    config = envoy_config({**TRACED, "OTEL_TRACES_EXPORTER": exporter})
    assert ("tracing" in connection_manager(config)) == (exporter == "otlp")
    assert "tracing" not in connection_manager(envoy_config({**TRACED, "OTEL_SDK_DISABLED": "true"}))


def test_the_tracer_exports_to_the_otlp_endpoint_samples_at_the_ratio_and_tags_the_request_id(tmp_path: Path) -> None:
    config = envoy_config({**TRACED, "OTEL_SERVICE_NAME": "edge", "OTEL_BSP_SCHEDULE_DELAY": "250"})
    tracing = connection_manager(config)["tracing"]
    assert tracing["random_sampling"] == {"value": 1.0}  # percent
    assert tracing["spawn_upstream_span"] is True
    assert {"tag": "request_id", "request_header": {"name": "x-request-id"}} in tracing["custom_tags"]
    provider = tracing["provider"]["typed_config"]
    assert provider["service_name"] == "edge"
    collector = provider["grpc_service"]["envoy_grpc"]["cluster_name"]
    [endpoint] = clusters(config)[collector]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"]["socket_address"] == {"address": "otel-collector", "port_value": 4317}
    [layer] = config["layered_runtime"]["layers"]
    assert layer["static_layer"]["tracing.opentelemetry.flush_interval_ms"] == 250
    assert_envoy_accepts({**TRACED}, tmp_path)


def test_a_traces_endpoint_wins_over_the_general_one() -> None:
    config = envoy_config({**TRACED, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:14317"})
    [endpoint] = clusters(config)["opentelemetry_collector"]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"]["socket_address"] == {"address": "traces", "port_value": 14317}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
        ("OTEL_TRACES_SAMPLER_ARG", "2"),
        ("GATEWAY_MICROCACHE_SECONDS", "0.5"),
        ("GATEWAY_MICROCACHE_SECONDS", "3600"),
    ],
)
def test_settings_the_gateway_cannot_honour_stop_it_with_the_name_of_the_setting(setting: str, value: str) -> None:
    with pytest.raises(ValueError, match=setting):
        envoy_config({**TRACED, setting: value})


def test_the_stats_listener_serves_only_the_admins_prometheus_stats(tmp_path: Path) -> None:
    env = {"ENVOY_METRICS_PORT": "9902", "ENVOY_ADMIN_PORT": "9901", "GATEWAY_HOST": "0.0.0.0"}  # noqa: S104
    config = envoy_config(env)
    [listener] = [entry for entry in config["static_resources"]["listeners"] if entry["name"] == "metrics"]
    assert listener["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 9902}  # noqa: S104
    routes = connection_manager(config, "metrics")["route_config"]["virtual_hosts"][0]["routes"]
    assert [(r["match"].get("path"), "route" in r) for r in routes] == [("/stats/prometheus", True), (None, False)]
    [admin] = clusters(config)["envoy_admin"]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert admin["endpoint"]["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 9901}
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    assert_envoy_accepts(env, tmp_path)
