"""The rendered Envoy config serves every /docs file it names, within its size limit, and keeps admin local."""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.render import render
from tests.conftest import GATEWAY_TEST_SECRET


def rendered(env: dict[str, str] | None = None) -> dict:
    return yaml.safe_load(render(env or {}, secret=GATEWAY_TEST_SECRET))


def http_connection_manager(config: dict) -> dict:
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]


def test_every_file_served_by_a_direct_response_exists_and_fits_the_size_limit() -> None:
    route_config = http_connection_manager(rendered())["route_config"]
    routes = [r for host in route_config["virtual_hosts"] for r in host["routes"]]
    files = [
        Path(r["direct_response"]["body"]["filename"])
        for r in routes
        if "filename" in r.get("direct_response", {}).get("body", {})
    ]
    names = {f.name for f in files}
    assert {"openapi.json", "docs.html", "swagger-ui-bundle.js", "swagger-ui.css"} <= names
    assert all(f.is_file() for f in files)
    assert max(f.stat().st_size for f in files) <= route_config["max_direct_response_body_size_bytes"]


ANY = "0.0.0.0"  # noqa: S104  (the point of the test: the gateway on every interface, admin still local)


def test_envoy_admin_listens_on_loopback_even_when_the_gateway_listens_everywhere() -> None:
    config = rendered({"GATEWAY_HOST": ANY})
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    assert config["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] == ANY
