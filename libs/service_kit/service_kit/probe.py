"""`python -m <service> health`: ask the local server's grpc.health.v1 (a container health check)."""

from __future__ import annotations

from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

WILDCARDS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (compared against, never bound)


def serving(host: str, port: int, service: str = "", timeout: float = 2.0) -> tuple[bool, str]:
    """(True, "SERVING") when the server at host:port reports SERVING for `service`, else (False, why)."""
    # A server bound to every interface is reached on loopback from inside its own container.
    target = f"127.0.0.1:{port}" if host in WILDCARDS else f"{host}:{port}"
    with grpc.insecure_channel(target) as channel:
        try:
            stub: Any = health_pb2_grpc.HealthStub(channel)  # the stubs' HealthStub lacks its methods
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            return False, f"{target}: {exc.code().name}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, f"{target}: {status}"
