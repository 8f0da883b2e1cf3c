"""Whether a port is already taken, checked before a server binds it with SO_REUSEPORT.

The workers of one service share their port through SO_REUSEPORT (workers.py), but so would any other
process that sets it: a second stack on the same port started silently and the kernel split the
connections between the two. So before binding, the first process binds a probe socket *without*
SO_REUSEPORT, which fails while anything listens there, and closes it again; then it forks the workers.
(A probe cannot be held while the server binds with SO_REUSEPORT, and grpc.aio cannot adopt an inherited
socket, which would have been the alternative. What is left: two stacks started within the same few
hundred milliseconds can still both bind.)
"""

from __future__ import annotations

import errno
import socket


class PortInUse(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host}:{port} is in use by another process")


def check_port_free(host: str, port: int) -> None:
    """Raise PortInUse if a socket listens on host:port (port 0 picks a free one: nothing to check).
    SO_REUSEADDR lets the probe past connections left in TIME_WAIT, never past a listener."""
    if not port:
        return
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return  # the server's own bind reports an unknown host
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise PortInUse(host, port) from None
