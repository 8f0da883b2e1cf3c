"""Who is calling, as the login throttle counts them: the client address the gateway vouches for, else the peer.

Envoy is the one component that decides a REST client's address (its original-IP detection, with
GATEWAY_XFF_TRUSTED_HOPS proxies in front of it trusted) and it passes the address on in
x-cigar-client-address together with a secret shared with auth_service (x-cigar-gateway-secret), both
set by Envoy on every request, whatever the client sent. A caller without the secret, a direct gRPC client
included, is counted by its own peer address: nobody else can choose the address the throttle counts.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from service_kit.interceptors import ServicerContext
from service_kit.metadata import metadata_value

SECRET_HEADER = "x-cigar-gateway-secret"  # noqa: S105 (a header name)
ADDRESS_HEADER = "x-cigar-client-address"
SECRET_MIN_LENGTH = 32


class GatewaySecretError(Exception):
    """The gateway secret file is unreadable or too short to be a secret."""


def read_gateway_secret(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise GatewaySecretError(f"cannot read {path}: {exc.strerror}") from exc
    if len(secret) < SECRET_MIN_LENGTH or not secret.isprintable() or " " in secret:
        raise GatewaySecretError(
            f"{path} holds no secret of {SECRET_MIN_LENGTH}+ printable characters; create one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))' > PATH`"
        )
    return secret


def peer_ip(peer: str) -> str:
    """The IP of a gRPC peer string: "ipv4:1.2.3.4:5", "ipv6:[::1]:5", anything else as given."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return peer


def client_address(peer: str, secret_given: str | None, address_given: str | None, secret: str | None) -> str:
    """The address the gateway vouches for when the caller proves it is the gateway, else the peer's."""
    if secret is None or secret_given is None or not hmac.compare_digest(secret_given.encode(), secret.encode()):
        return peer_ip(peer)
    try:
        return str(ipaddress.ip_address(address_given or ""))
    except ValueError:
        return peer_ip(peer)


class ClientAddresses:
    def __init__(self, gateway_secret: str | None) -> None:
        self._secret = gateway_secret

    def of(self, context: ServicerContext) -> str:
        return client_address(
            context.peer(), metadata_value(context, SECRET_HEADER), metadata_value(context, ADDRESS_HEADER),
            self._secret,
        )  # fmt: skip
