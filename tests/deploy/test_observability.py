"""The observability profile (compose) and overlay (Kubernetes): Collector and Jaeger images, loaded and checked
offline like the rest, and wired to what the services and the gateway really read and serve."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from tests.deploy.conftest import ROOT, assert_envoy_accepts, assert_settings_accept, kustomize
from tests.deploy.test_compose import PASSWORDS, docker_compose, example_variables
from tests.deploy.test_k8s import K8S_VERSION, environment, find, pod_specs

OVERLAY = ROOT / "deploy" / "k8s" / "overlays" / "observability"
COLLECTOR_CONFIG = OVERLAY / "otel-collector.yaml"
# What the OpenTelemetry Collector's core distribution (otel/opentelemetry-collector) is built with, of the kinds
# this configuration uses: a component outside it would stop the collector at start.
CORE = {
    "receivers": {"otlp", "jaeger", "zipkin", "prometheus", "hostmetrics", "kafka", "opencensus", "nop"},
    "processors": {"batch", "memory_limiter", "attributes", "filter", "probabilistic_sampler", "resource", "span"},
    "exporters": {"otlp", "otlphttp", "debug", "file", "prometheus", "prometheusremotewrite", "zipkin", "nop"},
}


def collector() -> dict:
    return yaml.safe_load(COLLECTOR_CONFIG.read_text())


def host_port(endpoint: str) -> tuple[str, int]:
    url = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    return url.hostname or "", url.port or 0


def test_the_collectors_pipeline_uses_only_core_components_it_defines_and_ends_in_jaeger() -> None:
    config = collector()
    [pipeline] = config["service"]["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        for name in pipeline[kind]:
            assert name in config[kind], f"{kind}: {name} is used but not defined"
            assert name.split("/")[0] in CORE[kind], f"{kind}: {name} is not in the core distribution"
    [exporter] = pipeline["exporters"]
    assert host_port(config["exporters"][exporter]["endpoint"]) == ("jaeger", 4317)
    assert host_port(config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])[1] == 4317


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> dict:
    variables = {**example_variables(), **{name: f"pw-{name.lower()}" for name in PASSWORDS},
                 "OTEL_TRACES_EXPORTER": "otlp"}  # fmt: skip
    tmp = tmp_path_factory.mktemp("compose-observability")
    result = docker_compose(tmp, variables, "--profile", "observability", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_profile_adds_collector_jaeger_prometheus_and_grafana_with_files_that_exist(profile: dict) -> None:
    services = profile["services"]
    assert {"otel-collector", "jaeger", "prometheus", "grafana"} <= set(services)
    assert services["otel-collector"]["image"].startswith("otel/opentelemetry-collector:")
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one:")
    for name in ("otel-collector", "prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            assert Path(volume["source"]).exists(), f"{name} mounts {volume['source']}, which is not there"
    collector_mount = services["otel-collector"]["volumes"][0]
    assert Path(collector_mount["source"]) == COLLECTOR_CONFIG  # the overlay's, the one configuration
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_the_gateway_and_both_services_export_to_the_collector_and_accept_their_settings(
    profile: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = profile["services"]
    receiver = host_port(collector()["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])[1]
    for name, module in (("auth", "auth_service"), ("collection", "collection_service"), ("gateway", "")):
        env = services[name]["environment"]
        assert env["OTEL_TRACES_EXPORTER"] == "otlp"
        assert host_port(env["OTEL_EXPORTER_OTLP_ENDPOINT"]) == ("otel-collector", receiver)
        assert env["OTEL_SERVICE_NAME"] == (module or "gateway")
        if module:
            assert_settings_accept(module, env, monkeypatch)
    assert_envoy_accepts(services["gateway"]["environment"], tmp_path)


def test_prometheus_scrapes_both_services_and_envoy_where_they_serve_their_metrics(profile: dict) -> None:
    services = profile["services"]
    config = yaml.safe_load((ROOT / "deploy" / "observability" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    served = {
        "auth_service": ("auth", services["auth"]["environment"]["AUTH_METRICS_PORT"], "/metrics"),
        "collection_service": ("collection", services["collection"]["environment"]["COLLECTION_METRICS_PORT"],
                               "/metrics"),
        "gateway": ("gateway", services["gateway"]["environment"]["ENVOY_METRICS_PORT"], "/stats/prometheus"),
    }  # fmt: skip
    for job, (host, port, path) in served.items():
        [target] = jobs[job]["static_configs"][0]["targets"]
        assert target == f"{host}:{port}" and jobs[job].get("metrics_path", "/metrics") == path


@pytest.fixture(scope="module")
def overlay(operator_copy: Path) -> list[dict]:
    """`kubectl kustomize` of the overlay, in a copy of deploy/k8s with an operator's files in it."""
    return kustomize(operator_copy.parent / "overlays" / "observability")


def test_the_overlay_builds_and_every_object_validates_against_the_kubernetes_schemas(overlay: list[dict]) -> None:
    for obj in overlay:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    assert find(overlay, "Deployment", "otel-collector")["spec"]["template"]["spec"]["containers"][0][
        "image"
    ].startswith("otel/opentelemetry-collector:")
    assert find(overlay, "Deployment", "jaeger")["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "jaegertracing/all-in-one:"
    )


def test_the_overlay_turns_traces_on_towards_its_collector_with_settings_the_code_accepts(
    overlay: list[dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    [collector_port] = find(overlay, "Service", "otel-collector")["spec"]["ports"]
    config_map = find(overlay, "Deployment", "otel-collector")["spec"]["template"]["spec"]["volumes"][0]["configMap"]
    mounted = yaml.safe_load(find(overlay, "ConfigMap", config_map["name"])["data"]["config.yaml"])
    assert mounted == collector()
    specs = pod_specs(overlay)
    for name, module in (("auth", "auth_service"), ("collection", "collection_service"), ("gateway", "")):
        env = environment(overlay, specs[name]["containers"][0])
        assert env["OTEL_TRACES_EXPORTER"] == "otlp"
        assert host_port(env["OTEL_EXPORTER_OTLP_ENDPOINT"]) == ("otel-collector", collector_port["port"])
        if module:
            assert_settings_accept(module, env, monkeypatch)
        else:
            assert_envoy_accepts(env, tmp_path)
    [jaeger_otlp] = [p for p in find(overlay, "Service", "jaeger")["spec"]["ports"] if p["name"] == "otlp-grpc"]
    assert host_port(mounted["exporters"]["otlp/jaeger"]["endpoint"]) == ("jaeger", jaeger_otlp["port"])
