"""The client address a login is counted against: x-forwarded-for only when the gateway sent it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def peer_ip(peer: str) -> str:
    """The IP of a gRPC peer string: "ipv4:1.2.3.4:5", "ipv6:[::1]:5", anything else as given."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return peer


def _in(ip: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: Iterable[Network]) -> str:
    """Envoy (use_remote_address: true) appends the address it saw to x-forwarded-for, so the LAST
    entry is the real client and anything before it is whatever the client claimed. A direct caller
    that is not the gateway could claim any address, so its header is ignored."""
    ip = peer_ip(peer)
    if forwarded_for and _in(ip, trusted_proxies):
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return ip
