"""deploy/k8s (the base and its overlays) builds with kustomize and validates against the Kubernetes schemas,
offline; it agrees with our code."""

from __future__ import annotations

import base64
from pathlib import Path

import kubernetes_validate
import pytest
from cigar.auth.v1 import auth_pb2
from cigar.collection.v1 import collection_pb2

from tests.deploy.conftest import K8S_GATEWAY_SECRET as GATEWAY_SECRET
from tests.deploy.conftest import (
    ROOT,
    SETTINGS,
    assert_command_exists,
    assert_envoy_accepts,
    assert_settings_accept,
    envoy_config,
    kustomize,
    listener_port,
    module_of,
    upstreams,
)

K8S = ROOT / "deploy" / "k8s"  # base/ and overlays/
K8S_VERSION = "1.33"  # the oldest minor still supported upstream when this was written
HEALTH_NAMES = {
    "auth": auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,
    "collection": collection_pb2.DESCRIPTOR.services_by_name["CollectionService"].full_name,
}
PORT_SETTING = {"auth": "AUTH_PORT", "collection": "COLLECTION_PORT"}


@pytest.fixture(scope="module")
def objects(operator_copy: Path) -> list[dict]:
    """`kubectl kustomize` of the base."""
    return kustomize(operator_copy)


def find(objects: list[dict], kind: str, name: str) -> dict:
    [obj] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def generated(objects: list[dict], kind: str, prefix: str) -> dict:
    """A configMapGenerator/secretGenerator object, whose name carries a content hash."""
    [obj] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].rsplit("-", 1)[0] == prefix]
    return obj


def pod_specs(objects: list[dict]) -> dict[str, dict]:
    return {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in objects if o["kind"] in ("Deployment", "Job")}


def containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec["containers"]


def environment(objects: list[dict], container: dict) -> dict[str, str]:
    """The container's environment: its envFrom ConfigMaps, then its own env (secret refs as 'secret:NAME/KEY')."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        env[var["name"]] = f"secret:{ref['name']}/{ref['key']}" if ref else var["value"]
    return env


def test_the_base_builds_and_every_object_validates_against_the_kubernetes_schemas(objects: list[dict]) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)  # raises on an unknown or wrong field
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects if o["kind"] not in ("ConfigMap", "Secret"))
    assert kinds == [
        "Deployment/auth", "Deployment/collection", "Deployment/gateway",
        "Job/auth-migrate", "Job/collection-migrate",
        "NetworkPolicy/auth", "NetworkPolicy/collection", "NetworkPolicy/gateway",
        "PodDisruptionBudget/auth", "PodDisruptionBudget/collection", "PodDisruptionBudget/gateway",
        "Service/auth", "Service/collection", "Service/gateway",
    ]  # fmt: skip


def test_every_command_and_probe_names_an_entrypoint_that_exists(objects: list[dict]) -> None:
    for spec in pod_specs(objects).values():
        for container in containers(spec):
            assert_command_exists(container["command"])
            for probe in ("readinessProbe", "livenessProbe"):
                if "exec" in container.get(probe, {}):
                    assert_command_exists(container[probe]["exec"]["command"])


def test_every_environment_variable_is_a_real_setting_with_a_valid_value_and_every_secret_key_exists(
    objects: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, spec in pod_specs(objects).items():
        for container in containers(spec):
            env = environment(objects, container)
            module = module_of(container["command"])
            assert not set(env) - SETTINGS[module], f"{name}/{container['name']} sets settings {module} never reads"
            assert_settings_accept(module, env, monkeypatch)
            for value in env.values():
                if value.startswith("secret:"):
                    secret, key = value.removeprefix("secret:").split("/")
                    assert key in find(objects, "Secret", secret)["data"], value


@pytest.mark.parametrize("service", ["auth", "collection"])
def test_each_service_runs_two_replicas_with_grpc_health_probes_on_its_port(objects: list[dict], service: str) -> None:
    deployment = find(objects, "Deployment", service)
    assert deployment["spec"]["replicas"] == 2
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = environment(objects, container)
    port = int(env[PORT_SETTING[service]])
    metrics = int(env[PORT_SETTING[service].replace("_PORT", "_METRICS_PORT")])
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"grpc": port, "metrics": metrics}
    annotations = find(objects, "Deployment", service)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(metrics)
    assert container["readinessProbe"]["grpc"] == {"port": port, "service": HEALTH_NAMES[service]}
    assert container["livenessProbe"]["grpc"]["port"] == port
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    budget = find(objects, "PodDisruptionBudget", service)["spec"]
    assert budget["selector"] == deployment["spec"]["selector"] and budget["minAvailable"] == 1


@pytest.mark.parametrize("service", ["auth", "collection"])
def test_replicas_wait_for_the_migration_job_which_uses_the_same_database(objects: list[dict], service: str) -> None:
    spec = find(objects, "Deployment", service)["spec"]["template"]["spec"]
    [init] = spec["initContainers"]
    assert init["command"][2:4] == [f"{service}_service", "check"] and "--wait" in init["command"]
    [job] = find(objects, "Job", f"{service}-migrate")["spec"]["template"]["spec"]["containers"]
    assert job["command"][2:] == [f"{service}_service", "migrate"]
    setting = f"{service.upper()}_DATABASE_URL"
    served = environment(objects, spec["containers"][0])[setting]
    assert served.startswith("secret:") and environment(objects, job)[setting] == served
    assert environment(objects, init)[setting] == served


def test_every_container_runs_as_non_root_with_resource_requests(objects: list[dict]) -> None:
    for name, spec in pod_specs(objects).items():
        assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] != 0, name
        for container in containers(spec):
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name


def test_the_signing_key_is_a_mounted_secret_at_the_path_auth_reads(objects: list[dict], key_pem: Path) -> None:
    spec = find(objects, "Deployment", "auth")["spec"]["template"]["spec"]
    [container] = spec["containers"]
    key_file = Path(environment(objects, container)["AUTH_PRIVATE_KEY_FILE"])
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(key_file.parent)]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    secret = find(objects, "Secret", volume["secret"]["secretName"])
    assert base64.b64decode(secret["data"][key_file.name]) == key_pem.read_bytes()
    for any_spec in pod_specs(objects).values():
        for c in containers(any_spec):
            assert all("PRIVATE KEY" not in v for v in environment(objects, c).values())


def test_envoy_reaches_every_ready_pod_of_each_service_on_its_port(objects: list[dict], tmp_path: Path) -> None:
    [envoy] = find(objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    gateway = environment(objects, envoy)
    config = envoy_config(gateway)
    for cluster, (host, port) in upstreams(config).items():
        service = cluster.removesuffix("_service")
        k8s_service = find(objects, "Service", host)
        # Headless, so that Envoy's STRICT_DNS sees each pod and balances requests, not connections.
        assert k8s_service["spec"]["clusterIP"] == "None"
        assert (
            k8s_service["spec"]["selector"] == find(objects, "Deployment", service)["spec"]["selector"]["matchLabels"]
        )
        [svc_port] = k8s_service["spec"]["ports"]
        assert svc_port["port"] == port
        [container] = find(objects, "Deployment", service)["spec"]["template"]["spec"]["containers"]
        [named] = [p for p in container["ports"] if p["name"] == svc_port["targetPort"]]
        assert named["containerPort"] == port
    auth_env = environment(objects, find(objects, "Deployment", "auth")["spec"]["template"]["spec"]["containers"][0])
    coll_env = environment(
        objects, find(objects, "Deployment", "collection")["spec"]["template"]["spec"]["containers"][0]
    )
    assert auth_env["AUTH_COLLECTION_SERVICE_ADDR"] == f"collection:{coll_env['COLLECTION_PORT']}"
    assert coll_env["COLLECTION_AUTH_SERVICE_ADDR"] == f"auth:{auth_env['AUTH_PORT']}"
    for setting in ("ISSUER", "AUDIENCE", "DELETION_AUDIENCE"):
        assert auth_env[f"AUTH_{setting}"] == coll_env[f"COLLECTION_{setting}"]
    [web] = find(objects, "Service", "gateway")["spec"]["ports"]
    [http] = [p for p in envoy["ports"] if p["name"] == web["targetPort"]]
    assert http["containerPort"] == listener_port(config)
    assert_envoy_accepts(gateway, tmp_path)


def mounted_file(objects: list[dict], deployment: str, path: str) -> bytes:
    """The content of the secret file a deployment's container finds at `path`."""
    spec = find(objects, "Deployment", deployment)["spec"]["template"]["spec"]
    [container] = spec["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(Path(path).parent)]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    return base64.b64decode(find(objects, "Secret", volume["secret"]["secretName"])["data"][Path(path).name])


def test_envoy_and_auth_service_read_the_same_gateway_secret(objects: list[dict]) -> None:
    [auth] = find(objects, "Deployment", "auth")["spec"]["template"]["spec"]["containers"]
    [envoy] = find(objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    auth_path = environment(objects, auth)["AUTH_GATEWAY_SECRET_FILE"]
    envoy_path = environment(objects, envoy)["GATEWAY_SECRET_FILE"]
    assert mounted_file(objects, "auth", auth_path) == mounted_file(objects, "gateway", envoy_path)
    assert mounted_file(objects, "auth", auth_path).decode().strip() == GATEWAY_SECRET
    assert environment(objects, envoy)["GATEWAY_XFF_TRUSTED_HOPS"] == "0"  # the base trusts no proxy in front


def allowed_sources(objects: list[dict], target: str, port: str) -> set[str]:
    """Which pods (by app.kubernetes.io/name; "*" for any pod) the NetworkPolicy of `target` lets reach `port`."""
    policy = find(objects, "NetworkPolicy", target)["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": target}
    found: set[str] = set()
    for rule in policy["ingress"]:
        if {"port": port, "protocol": "TCP"} in rule["ports"]:
            for peer in rule.get("from", [{"podSelector": {}}]):
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                found.add(labels.get("app.kubernetes.io/name", "*"))
    return found


def test_only_the_gateway_and_the_other_service_reach_a_service_grpc_port(objects: list[dict]) -> None:
    assert allowed_sources(objects, "auth", "grpc") == {"gateway", "collection"}
    assert allowed_sources(objects, "collection", "grpc") == {"gateway", "auth"}
    for service in ("auth", "collection"):
        assert allowed_sources(objects, service, "metrics") == {"*"}
        ports = {
            p["name"]
            for p in find(objects, "Deployment", service)["spec"]["template"]["spec"]["containers"][0]["ports"]
        }
        assert ports == {"grpc", "metrics"}  # nothing else is open
    assert allowed_sources(objects, "gateway", "http") == {"*"}


def test_the_ingress_overlay_builds_validates_and_trusts_exactly_the_ingress_hop(operator_copy: Path) -> None:
    objects = kustomize(operator_copy.parent / "overlays" / "ingress")
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    [envoy] = find(objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    assert environment(objects, envoy)["GATEWAY_XFF_TRUSTED_HOPS"] == "1"
    rule = find(objects, "Ingress", "gateway")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert rule == {"name": "gateway", "port": {"name": "http"}}
    [ingress_only] = find(objects, "NetworkPolicy", "gateway")["spec"]["ingress"]
    assert "namespaceSelector" in ingress_only["from"][0]  # no longer any pod or client: the Ingress only


def test_auth_runs_in_production_with_smtp_and_its_password_from_a_mounted_secret(objects: list[dict]) -> None:
    spec = find(objects, "Deployment", "auth")["spec"]["template"]["spec"]
    [container] = spec["containers"]
    env = environment(objects, container)
    assert env["AUTH_ENVIRONMENT"] == "production" and env["AUTH_EMAIL_SENDER"] == "smtp"
    assert env["AUTH_SMTP_TLS"] in ("starttls", "implicit")
    password_file = Path(env["AUTH_SMTP_PASSWORD_FILE"])
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(password_file.parent)]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert password_file.name in find(objects, "Secret", volume["secret"]["secretName"])["data"]
